/*
 * ringgarbage.h — the hostile block frontend (app=ringgarbage), a kernel job (ringgarbage.c).
 *
 * Rules of use: returns 0 when the backend refused every bad request (an error response, or
 * disconnecting us), 1 if one succeeded or the device could not be used at all.
 */
#ifndef PVK_RINGGARBAGE_H
#define PVK_RINGGARBAGE_H

int ringgarbage_run(const char *cmdline);

#endif
