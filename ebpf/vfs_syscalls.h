/* The traced system calls, one X-macro line each (no include guard: included with different macros).
 *   SS_SYSCALL(nr_name, tracepoint_name, nargs, op, fd_arg, path_arg, flags, flags_arg)
 * nr_name is the __NR_ suffix; tracepoint_name the syscalls:sys_enter_<name> suffix (the SYSCALL_DEFINE name);
 * fd_arg is the fd or dirfd argument (N = none: the working directory), path_arg the path argument
 * (N = none: fd-based). Paths of link/symlink/rename count where the name is created or first named.
 * x86-64 numbering; the loader compiles only what <sys/syscall.h> defines. */
#ifndef SS_SYSCALL
#error "define SS_SYSCALL before including vfs_syscalls.h"
#endif
#define N SS_ARG_NONE
/* open */
SS_SYSCALL(open, open, 3, SS_OP_OPEN, N, 0, SS_NR_CREAT_FLAGS, 1)
SS_SYSCALL(openat, openat, 4, SS_OP_OPEN, 0, 1, SS_NR_CREAT_FLAGS, 2)
SS_SYSCALL(openat2, openat2, 4, SS_OP_OPEN, 0, 1, SS_NR_HOW_FLAGS, 2)
SS_SYSCALL(creat, creat, 2, SS_OP_CREATE, N, 0, 0, 0)
/* stat (the access and readlink calls are lookups of the same kind) */
SS_SYSCALL(stat, newstat, 2, SS_OP_STAT, N, 0, 0, 0)
SS_SYSCALL(lstat, newlstat, 2, SS_OP_STAT, N, 0, 0, 0)
SS_SYSCALL(fstat, newfstat, 2, SS_OP_STAT, 0, N, 0, 0)
SS_SYSCALL(newfstatat, newfstatat, 4, SS_OP_STAT, 0, 1, 0, 0)
SS_SYSCALL(statx, statx, 5, SS_OP_STAT, 0, 1, 0, 0)
SS_SYSCALL(access, access, 2, SS_OP_STAT, N, 0, 0, 0)
SS_SYSCALL(faccessat, faccessat, 3, SS_OP_STAT, 0, 1, 0, 0)
SS_SYSCALL(faccessat2, faccessat2, 4, SS_OP_STAT, 0, 1, 0, 0)
SS_SYSCALL(readlink, readlink, 3, SS_OP_STAT, N, 0, 0, 0)
SS_SYSCALL(readlinkat, readlinkat, 4, SS_OP_STAT, 0, 1, 0, 0)
/* readdir */
SS_SYSCALL(getdents, getdents, 3, SS_OP_READDIR, 0, N, 0, 0)
SS_SYSCALL(getdents64, getdents64, 3, SS_OP_READDIR, 0, N, 0, 0)
/* create */
SS_SYSCALL(mknod, mknod, 3, SS_OP_CREATE, N, 0, 0, 0)
SS_SYSCALL(mknodat, mknodat, 4, SS_OP_CREATE, 0, 1, 0, 0)
SS_SYSCALL(link, link, 2, SS_OP_CREATE, N, 1, 0, 0)
SS_SYSCALL(linkat, linkat, 5, SS_OP_CREATE, 2, 3, 0, 0)
SS_SYSCALL(symlink, symlink, 2, SS_OP_CREATE, N, 1, 0, 0)
SS_SYSCALL(symlinkat, symlinkat, 3, SS_OP_CREATE, 1, 2, 0, 0)
/* unlink, mkdir, rmdir, rename */
SS_SYSCALL(unlink, unlink, 1, SS_OP_UNLINK, N, 0, 0, 0)
SS_SYSCALL(unlinkat, unlinkat, 3, SS_OP_UNLINK, 0, 1, SS_NR_RMDIR_FLAGS, 2)
SS_SYSCALL(mkdir, mkdir, 2, SS_OP_MKDIR, N, 0, 0, 0)
SS_SYSCALL(mkdirat, mkdirat, 3, SS_OP_MKDIR, 0, 1, 0, 0)
SS_SYSCALL(rmdir, rmdir, 1, SS_OP_RMDIR, N, 0, 0, 0)
SS_SYSCALL(rename, rename, 2, SS_OP_RENAME, N, 0, 0, 0)
SS_SYSCALL(renameat, renameat, 4, SS_OP_RENAME, 0, 1, 0, 0)
SS_SYSCALL(renameat2, renameat2, 5, SS_OP_RENAME, 0, 1, 0, 0)
/* setattr */
SS_SYSCALL(chmod, chmod, 2, SS_OP_SETATTR, N, 0, 0, 0)
SS_SYSCALL(fchmod, fchmod, 2, SS_OP_SETATTR, 0, N, 0, 0)
SS_SYSCALL(fchmodat, fchmodat, 3, SS_OP_SETATTR, 0, 1, 0, 0)
SS_SYSCALL(chown, chown, 3, SS_OP_SETATTR, N, 0, 0, 0)
SS_SYSCALL(lchown, lchown, 3, SS_OP_SETATTR, N, 0, 0, 0)
SS_SYSCALL(fchown, fchown, 3, SS_OP_SETATTR, 0, N, 0, 0)
SS_SYSCALL(fchownat, fchownat, 5, SS_OP_SETATTR, 0, 1, 0, 0)
SS_SYSCALL(utime, utime, 2, SS_OP_SETATTR, N, 0, 0, 0)
SS_SYSCALL(utimes, utimes, 2, SS_OP_SETATTR, N, 0, 0, 0)
SS_SYSCALL(futimesat, futimesat, 3, SS_OP_SETATTR, 0, 1, 0, 0)
SS_SYSCALL(utimensat, utimensat, 4, SS_OP_SETATTR, 0, 1, 0, 0)
SS_SYSCALL(truncate, truncate, 2, SS_OP_SETATTR, N, 0, 0, 0)
SS_SYSCALL(ftruncate, ftruncate, 2, SS_OP_SETATTR, 0, N, 0, 0)
/* xattr */
SS_SYSCALL(setxattr, setxattr, 5, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(lsetxattr, lsetxattr, 5, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(fsetxattr, fsetxattr, 5, SS_OP_XATTR, 0, N, 0, 0)
SS_SYSCALL(getxattr, getxattr, 4, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(lgetxattr, lgetxattr, 4, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(fgetxattr, fgetxattr, 4, SS_OP_XATTR, 0, N, 0, 0)
SS_SYSCALL(listxattr, listxattr, 3, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(llistxattr, llistxattr, 3, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(flistxattr, flistxattr, 3, SS_OP_XATTR, 0, N, 0, 0)
SS_SYSCALL(removexattr, removexattr, 2, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(lremovexattr, lremovexattr, 2, SS_OP_XATTR, N, 0, 0, 0)
SS_SYSCALL(fremovexattr, fremovexattr, 2, SS_OP_XATTR, 0, N, 0, 0)
/* close, data, sync */
SS_SYSCALL(close, close, 1, SS_OP_CLOSE, 0, N, 0, 0)
SS_SYSCALL(read, read, 3, SS_OP_READ, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(pread64, pread64, 4, SS_OP_READ, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(readv, readv, 3, SS_OP_READ, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(preadv, preadv, 5, SS_OP_READ, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(preadv2, preadv2, 6, SS_OP_READ, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(write, write, 3, SS_OP_WRITE, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(pwrite64, pwrite64, 4, SS_OP_WRITE, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(writev, writev, 3, SS_OP_WRITE, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(pwritev, pwritev, 5, SS_OP_WRITE, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(pwritev2, pwritev2, 6, SS_OP_WRITE, 0, N, SS_NR_BYTES, 0)
SS_SYSCALL(fsync, fsync, 1, SS_OP_FSYNC, 0, N, 0, 0)
SS_SYSCALL(fdatasync, fdatasync, 1, SS_OP_FSYNC, 0, N, 0, 0)
SS_SYSCALL(sync_file_range, sync_file_range, 4, SS_OP_FSYNC, 0, N, 0, 0)
#undef N
