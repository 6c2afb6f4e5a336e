/* log_test: every log line is one line of printable ASCII, whatever its
 * arguments. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

/* Runs one log call with stderr in a file and returns what it wrote. */
static const char *
captured(void (*call)(void))
{
	static char got[8192];
	char path[] = "/tmp/log_test.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	if (fd == -1 || saved == -1)
		return "";
	dup2(fd, 2);
	call();
	dup2(saved, 2);
	close(saved);
	n = pread(fd, got, sizeof got - 1, 0);
	got[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return got;
}

static void
forged(void)
{
	log_warn("unable to serve %s", "/x\nsync-serve: fatal: forged");
}

static void
controls(void)
{
	log_info("name %s", "a\033[2J\r\t\x7f\xff\\010b");
}

static void
with_errno(void)
{
	errno = ENOENT;
	log_warn_sys("unable to open %s", "/tmp/\n");
}

static void
huge(void)
{
	char big[3000];

	memset(big, '\n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_warn("%s", big);
}

int
main(void)
{
	const char *got;

	log_init("log_test");
	got = captured(forged);
	T_CHECK(strcmp(got, "log_test: warning: unable to serve "
			    "/x\\x0async-serve: fatal: forged\n") == 0,
		"a newline in an argument is escaped (%s)", got);
	got = captured(controls);
	T_CHECK(strcmp(got, "log_test: info: name "
			    "a\\x1b[2J\\x0d\\x09\\x7f\\xff\\010b\n") == 0,
		"controls and high bytes escaped, backslash kept (%s)", got);
	got = captured(with_errno);
	T_CHECK(strcmp(got, "log_test: warning: unable to open /tmp/\\x0a: "
			    "No such file or directory\n") == 0,
		"the errno suffix follows the escaped message (%s)", got);
	got = captured(huge);
	T_CHECK(
	    strlen(got) > 3000 && strchr(got, '\n') == got + strlen(got) - 1,
	    "a long message of newlines is one line (%zu bytes)", strlen(got));
	T_DONE();
}
