/*
 * sig: signals as events in the poll loop (signalfd).
 *
 * sig_open() blocks the given signals and returns a non-blocking descriptor to
 * poll for POLLIN; sig_next() returns the next pending signal, or 0 when none
 * is left. SIGPIPE is always ignored: EPIPE is handled where the write fails.
 */
#ifndef SIG_H
#define SIG_H

/* signals: zero-terminated list. Returns the fd, or -1 with errno set. */
int sig_open(const int *signals);
/* Returns a signal number, 0 when none is pending, -1 on error. */
int sig_next(int fd);

#endif
