#include "sig.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

int
sig_open(const int *signals)
{
	sigset_t set;
	struct sigaction sa = {.sa_handler = SIG_IGN};

	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	sigemptyset(&set);
	for (; *signals; signals++)
		sigaddset(&set, *signals);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
sig_next(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(fd, &si, sizeof si);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (n != (ssize_t)sizeof si)
		return 0;
	return (int)si.ssi_signo;
}
