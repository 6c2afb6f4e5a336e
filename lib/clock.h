/*
 * clock: the two clocks every program reads. Wall time (what records and
 * the store carry) and monotonic time (timers, intervals, deadlines, which
 * must not jump when the wall clock is set).
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t clock_wall_us(void);
/* Monotonic microseconds and milliseconds (CLOCK_MONOTONIC). */
int64_t clock_mono_us(void);
int64_t clock_mono_ms(void);

#endif
