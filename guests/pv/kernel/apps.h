/*
 * apps.h — the applications built into the kernel image and the jobs that run them.
 *
 * Rules of use: the command line's `app=` names one or more jobs separated by commas
 * (default: hello). A job is a U-mode application (a process) or, for `hostile`, a kernel
 * thread. apps_run starts them all, waits for every one to finish and returns how many failed
 * (non-zero status). Console protocol (stable, for tests): after each job
 *   "pvkernel: job <name> (pid N) exited with status S"
 * and, at the end, one of
 *   "pvkernel: all N app(s) done, powering off"
 *   "pvkernel: F of N app(s) failed, crashing"
 * The applications print their own final line "app <name>: done checksum=0x........".
 */
#ifndef PVK_APPS_H
#define PVK_APPS_H
#include "types.h"

struct job;

struct app_image {
  const char *name;
  const uint8_t *start;
  const uint8_t *end;
};

/* The embedded images (apps.S), terminated by a NULL name. */
extern const struct app_image app_images[];

/* Called by a finished job with its status. */
void job_finished(struct job *job, uint32_t pid, int status);
/* Runs the jobs of `cmdline`; returns the number that failed, or -1 for a bad command line. */
int apps_run(const char *cmdline);

#endif
