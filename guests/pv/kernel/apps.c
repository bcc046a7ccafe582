/*
 * apps.c — the job runner of apps.h.
 *
 * Rules of use: see apps.h. The init thread (kmain) blocks in apps_run until every job has
 * called job_finished.
 */
#include "apps.h"

#include "args.h"
#include "console.h"
#include "hostile.h"
#include "ringgarbage.h"
#include "process.h"
#include "string.h"
#include "thread.h"
#include "xstest.h"

#define MAX_JOBS 8u

struct job {
  char name[16];
  uint32_t pid;
  int status;
  bool done;
};

static struct job jobs[MAX_JOBS];
static uint32_t running;
static struct thread *waiter;

void job_finished(struct job *job, uint32_t pid, int status) {
  job->status = status;
  job->done = true;
  printk("pvkernel: job %s (pid %u) exited with status %d\n", job->name, pid, status);
  running--;
  if (running == 0 && waiter != NULL) thread_wake(waiter);
}

static const struct app_image *find_app(const char *name) {
  for (const struct app_image *a = app_images; a->name != NULL; a++) {
    if (strcmp(a->name, name) == 0) return a;
  }
  return NULL;
}

static void unknown_app(const char *name) {
  char known[128];
  uint32_t at = 0;
  for (const struct app_image *a = app_images; a->name != NULL; a++) {
    at += (uint32_t)format(known + at, sizeof(known) - at, "%s ", a->name);
  }
  printk("pvkernel: unknown app \"%s\" (known: %shostile xstest ringgarbage)\n", name, known);
}

/* Kernel jobs: threads, not processes (they misbehave or test the kernel's own layers). */
static const char *job_cmdline;

static void hostile_job(void *arg) {
  struct job *job = arg;
  job_finished(job, 0, hostile_run(job->name));
}

static void xstest_job(void *arg) {
  struct job *job = arg;
  job_finished(job, 0, xstest_run(job_cmdline));
}

static void ringgarbage_job(void *arg) {
  struct job *job = arg;
  job_finished(job, 0, ringgarbage_run(job_cmdline));
}

static const struct {
  const char *name;
  void (*run)(void *);
} kernel_jobs[] = {
    {"hostile", hostile_job},
    {"xstest", xstest_job},
    {"ringgarbage", ringgarbage_job},
};

int apps_run(const char *cmdline) {
  char list[128];
  if (!arg_str(cmdline, "app", list, sizeof(list))) strlcpy(list, "hello", sizeof(list));
  uint32_t count = 0;
  char *name = list;
  for (;;) {
    char *comma = name;
    while (*comma != '\0' && *comma != ',') comma++;
    bool last = *comma == '\0';
    *comma = '\0';
    if (count == MAX_JOBS) {
      printk("pvkernel: too many apps (at most %u)\n", MAX_JOBS);
      return -1;
    }
    struct job *job = &jobs[count];
    strlcpy(job->name, name, sizeof(job->name));
    void (*kernel_job)(void *) = NULL;
    for (uint32_t k = 0; k < ARRAY_SIZE(kernel_jobs); k++) {
      if (strcmp(name, kernel_jobs[k].name) == 0) kernel_job = kernel_jobs[k].run;
    }
    if (kernel_job != NULL) {
      job_cmdline = cmdline;
      if (thread_create(name, kernel_job, job, NULL) == NULL) {
        printk("pvkernel: cannot start job %s: out of memory\n", name);
        return -1;
      }
    } else {
      const struct app_image *app = find_app(name);
      if (app == NULL) {
        unknown_app(name);
        return -1;
      }
      int pid = process_create(name, app->start, (uint32_t)(app->end - app->start), cmdline, job);
      if (pid < 0) {
        printk("pvkernel: cannot start app %s: error %d\n", name, pid);
        return -1;
      }
      job->pid = (uint32_t)pid;
      printk("pvkernel: started app %s as pid %d\n", name, pid);
    }
    count++;
    running++;
    if (last) break;
    name = comma + 1;
  }
  while (running > 0) {
    waiter = current;
    thread_block();
  }
  uint32_t failed = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (jobs[i].status != 0) failed++;
  }
  if (failed == 0) {
    printk("pvkernel: all %u app(s) done, powering off\n", count);
  } else {
    printk("pvkernel: %u of %u app(s) failed, crashing\n", failed, count);
  }
  return (int)failed;
}
