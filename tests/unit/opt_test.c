/* opt_test: -h, -V, and bad usage as one line naming the manual, run in
 * children. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "opt.h"
#include "t.h"

static const char usage[] = "usage: prog [-n NUM]\n";

/* Runs fn in a child with stdout and stderr in out/err; its exit status. */
static int
run(void (*fn)(void), char *out, char *err, size_t cap)
{
	int po[2], pe[2], st;
	pid_t pid;
	ssize_t n;

	fflush(stdout); /* the child must not write the parent's buffer */
	if (pipe(po) == -1 || pipe(pe) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		opt_init("/usr/libexec/dnstap-bgp/prog", usage);
		fn();
		_exit(0);
	}
	close(po[1]);
	close(pe[1]);
	waitpid(pid, &st, 0);
	n = read(po[0], out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	n = read(pe[0], err, cap - 1);
	err[n > 0 ? n : 0] = '\0';
	close(po[0]);
	close(pe[0]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
help(void)
{
	opt_help();
}
static void
version(void)
{
	opt_version();
}
static void
toobig(void)
{
	opt_number("70000", 1, 65535, "-n");
}
static void
fine(void)
{
	printf("%lld\n", opt_number("53", 1, 65535, "-n"));
	fflush(stdout);
}
static void
unknown(void)
{
	optopt = 'z';
	opt_bad('?');
}
static void
noarg(void)
{
	optopt = 'n';
	opt_bad(':');
}

int
main(void)
{
	char out[1024], err[1024];
	int rc;

	rc = run(help, out, err, sizeof out);
	T_CHECK(rc == 0 &&
		    strcmp(out, "usage: prog [-n NUM]\nSee prog(8) for the "
				"whole manual.\n") == 0 &&
		    err[0] == '\0',
		"-h: usage on stdout, exit 0 (%d, %s)", rc, out);
	rc = run(version, out, err, sizeof out);
	T_CHECK(rc == 0 && strcmp(out, "prog (dnstap-bgp) " DNSTAP_BGP_VERSION
				       "\n") == 0,
		"-V: the version on stdout, exit 0 (%d, %s)", rc, out);
	rc = run(toobig, out, err, sizeof out);
	T_CHECK(rc == EXIT_PERM &&
		    strcmp(err, "prog: fatal: -n 70000: too large (1 to 65535) "
				"(see prog -h or prog(8))\n") == 0 &&
		    out[0] == '\0',
		"a bad number: one fatal line, exit 100 (%d, %s)", rc, err);
	rc = run(fine, out, err, sizeof out);
	T_CHECK(rc == 0 && strcmp(out, "53\n") == 0, "a good number (%s)", out);
	rc = run(unknown, out, err, sizeof out);
	T_CHECK(rc == EXIT_PERM &&
		    strcmp(err, "prog: fatal: unknown option -z (see prog -h "
				"or prog(8))\n") == 0,
		"an unknown option (%s)", err);
	rc = run(noarg, out, err, sizeof out);
	T_CHECK(rc == EXIT_PERM &&
		    strcmp(err, "prog: fatal: option -n needs an argument (see "
				"prog -h or prog(8))\n") == 0,
		"a missing argument (%s)", err);
	T_DONE();
}
