/*
 * xstest.h — the xenstore and grant-table self-test (app=xstest), a kernel job (xstest.c).
 *
 * Rules of use: returns 0 when every check passed, 1 otherwise; prints its own protocol lines.
 */
#ifndef PVK_XSTEST_H
#define PVK_XSTEST_H

int xstest_run(const char *cmdline);

#endif
