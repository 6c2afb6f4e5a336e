#include "cap.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

int
cap_effective(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (cap < 0 || cap > 63)
		return 0;
	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}
