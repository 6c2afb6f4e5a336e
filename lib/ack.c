#include "ack.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec.h"

int
ack_open(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		errno = ENOTSUP;
		return -1;
	}
	return fd;
}

int
ack_write(int fd, uint64_t n)
{
	struct rec r = {.type = REC_ACK, .mark = n};
	char buf[64];
	size_t len = rec_format(buf, sizeof buf, &r);
	ssize_t k;

	do
		k = write(fd, buf, len);
	while (k == -1 && errno == EINTR);
	if (k == -1)
		return errno == EAGAIN ? 0 : -1;
	/* At most PIPE_BUF bytes to a FIFO: all or nothing. */
	return 1;
}
