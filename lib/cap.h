/*
 * cap: whether this process holds a capability in its effective set (the
 * programs that need CAP_NET_ADMIN say so at start, not at the first
 * change the kernel refuses).
 */
#ifndef CAP_H
#define CAP_H

/* 1 when held, 0 when not, -1 with errno when it cannot be read. */
int cap_effective(int cap);

#endif
