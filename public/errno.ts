/**
 * Xen's error numbers (`xen/errno.h`). Hypercalls return them negated in a0.
 *
 * @module
 */

/** Operation not permitted. */
export const EPERM = 1;
/** No such file or directory. */
export const ENOENT = 2;
/** No such process (no such domain). */
export const ESRCH = 3;
/** I/O error. */
export const EIO = 5;
/** No such device or address. */
export const ENXIO = 6;
/** Argument list too long. */
export const E2BIG = 7;
/** Exec format error. */
export const ENOEXEC = 8;
/** Bad file number (bad port). */
export const EBADF = 9;
/** Try again. */
export const EAGAIN = 11;
/** Out of memory. */
export const ENOMEM = 12;
/** Permission denied. */
export const EACCES = 13;
/** Bad address. */
export const EFAULT = 14;
/** Device or resource busy. */
export const EBUSY = 16;
/** Already exists. */
export const EEXIST = 17;
/** Cross-device link. */
export const EXDEV = 18;
/** No such device. */
export const ENODEV = 19;
/** Invalid argument. */
export const EINVAL = 22;
/** No space left. */
export const ENOSPC = 28;
/** Math result not representable. */
export const ERANGE = 34;
/** Function not implemented (unknown hypercall or sub-operation). */
export const ENOSYS = 38;
/** No data available. */
export const ENODATA = 61;
/** Timer expired. */
export const ETIME = 62;
/** Value too large. */
export const EOVERFLOW = 75;
/** Operation not supported. */
export const EOPNOTSUPP = 95;
/** Connection timed out. */
export const ETIMEDOUT = 110;

/** Names of the error numbers, for messages. */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  [ESRCH]: "ESRCH",
  [EIO]: "EIO",
  [ENXIO]: "ENXIO",
  [E2BIG]: "E2BIG",
  [ENOEXEC]: "ENOEXEC",
  [EBADF]: "EBADF",
  [EAGAIN]: "EAGAIN",
  [ENOMEM]: "ENOMEM",
  [EACCES]: "EACCES",
  [EFAULT]: "EFAULT",
  [EBUSY]: "EBUSY",
  [EEXIST]: "EEXIST",
  [EXDEV]: "EXDEV",
  [ENODEV]: "ENODEV",
  [EINVAL]: "EINVAL",
  [ENOSPC]: "ENOSPC",
  [ERANGE]: "ERANGE",
  [ENOSYS]: "ENOSYS",
  [ENODATA]: "ENODATA",
  [ETIME]: "ETIME",
  [EOVERFLOW]: "EOVERFLOW",
  [EOPNOTSUPP]: "EOPNOTSUPP",
  [ETIMEDOUT]: "ETIMEDOUT",
};
