// The launcher's way to start a task's process (launcher-process.mjs), where
// Linux on x86-64 allows it.
//
// Why not Node's child_process: libuv starts a child with fork(), which copies
// the launcher's page tables and makes every page it writes afterwards a
// copy-on-write fault (0.65-0.75 ms of the launcher's CPU per start here);
// and a child is born in its parent's control group, so the launcher had to
// move itself into the run's group and back around each start, and the first
// of those moves after an idle gap waits for an RCU grace period (7-13 ms).
// Here the child is made by clone3 with CLONE_VM | CLONE_VFORK, as glibc's
// posix_spawn does (nothing is copied; the launcher waits until the child has
// exec'd), and CLONE_INTO_CGROUP, so it is born in the run's group.
//
// The child shares the launcher's memory until exec: it runs on a stack of its
// own, calls only system calls (no malloc, no locks, no glibc wrapper that
// would act for the whole thread group, such as setuid), and reports a failure
// through the shared context before it exits.
//
// Exits are collected by reap(), which the launcher calls on SIGCHLD: it is
// the only kind of child the launcher has when this module is in use.

#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__linux__)
#define LAPIS_CAN_CLONE3 1
#else
#define LAPIS_CAN_CLONE3 0
#endif

#define LAPIS_SYS_CLONE3 435
#define LAPIS_SYS_CLOSE_RANGE 436
#define LAPIS_CLONE_VM 0x00000100ULL
#define LAPIS_CLONE_VFORK 0x00004000ULL
#define LAPIS_CLONE_INTO_CGROUP 0x200000000ULL

/** The kernel's struct clone_args (linux/sched.h), declared here: that header clashes with <sched.h>. */
struct lapis_clone_args {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

#if LAPIS_CAN_CLONE3
// clone3 has no glibc wrapper (glibc 2.36): a raw call whose child would
// return into a C frame on a stack it does not own. This one, as glibc's
// internal __clone3, calls fn(arg) on the new stack in the child and exits
// with its result; the parent gets the pid or -errno.
long lapis_clone3(struct lapis_clone_args *args, size_t size, int (*fn)(void *), void *arg);
__asm__(
    ".text\n"
    ".globl lapis_clone3\n"
    ".hidden lapis_clone3\n"
    ".type lapis_clone3, @function\n"
    "lapis_clone3:\n"
    "  mov %rdx, %r9\n"
    "  mov %rcx, %r8\n"
    "  mov $435, %eax\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 1f\n"
    "  ret\n"
    "1:\n"
    "  xor %ebp, %ebp\n"
    "  and $-16, %rsp\n"
    "  mov %r8, %rdi\n"
    "  call *%r9\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n"
    "  syscall\n"
    "  hlt\n"
    ".size lapis_clone3, .-lapis_clone3\n");
#endif

/** Where a start failed: the launcher reports it as libuv's spawn errors are (the errno's code). */
enum stage { STAGE_NONE = 0, STAGE_CGROUP, STAGE_CLONE, STAGE_SETSID, STAGE_STDIO, STAGE_GROUPS, STAGE_GID, STAGE_UID, STAGE_CWD, STAGE_EXEC };
static const char *const STAGE_NAMES[] = {"", "cgroup", "clone", "setsid", "stdio", "groups", "gid", "uid", "cwd", "exec"};

struct child_context {
  const char *file;
  char **argv;
  char **envp;
  /** argv with /bin/sh in front, for a file without a #! line (ENOEXEC), as execvp does. */
  char **shell_argv;
  const char *cwd;
  /** The PATH searched for a file without a slash: the task's own, as libuv's execvp after setting environ. */
  const char *search_path;
  char *path_buffer;
  size_t path_buffer_size;
  long uid;
  long gid;
  gid_t *groups;
  long group_count;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  /** Written by the child before it exits on a failure; read by the parent after clone3 returns. */
  volatile int error;
  volatile int stage;
};

/** The child's stack: one start at a time, and the parent waits until the child has exec'd or exited. */
static char child_stack[128 * 1024] __attribute__((aligned(64)));
static int dev_null = -1;

static int fail(struct child_context *context, int stage) {
  context->error = errno;
  context->stage = stage;
  return 127;
}

static int move_descriptor(int from, int to) {
  if (from == to) return fcntl(to, F_SETFD, 0);
  return dup2(from, to) < 0 ? -1 : 0;
}

static void exec_or_shell(struct child_context *context, const char *path) {
  execve(path, context->argv, context->envp);
  if (errno == ENOEXEC) {
    context->shell_argv[1] = (char *)path;
    execve("/bin/sh", context->shell_argv, context->envp);
    errno = ENOEXEC;
  }
}

/** execvp's search, over the task's PATH, with buffers the parent allocated. */
static void exec_searching(struct child_context *context) {
  const char *file = context->file;
  if (strchr(file, '/') != NULL) {
    exec_or_shell(context, file);
    return;
  }
  size_t file_length = strlen(file);
  int denied = 0;
  const char *segment = context->search_path;
  for (;;) {
    const char *end = strchr(segment, ':');
    size_t length = end ? (size_t)(end - segment) : strlen(segment);
    if (length + 1 + file_length + 1 <= context->path_buffer_size) {
      char *cursor = context->path_buffer;
      if (length == 0) {
        *cursor++ = '.';
      } else {
        memcpy(cursor, segment, length);
        cursor += length;
      }
      *cursor++ = '/';
      memcpy(cursor, file, file_length + 1);
      exec_or_shell(context, context->path_buffer);
      switch (errno) {
        case EACCES:
          denied = 1;
          break;
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case ETIMEDOUT:
          break;
        default:
          return;
      }
    }
    if (!end) break;
    segment = end + 1;
  }
  errno = denied ? EACCES : ENOENT;
}

/** Runs in the child, on child_stack, sharing the parent's memory until execve. */
static int child_main(void *argument) {
  struct child_context *context = argument;
  // As libuv: default dispositions for the classic signals (not the real-time ones glibc uses).
  for (int signal_number = 1; signal_number < 32; signal_number++) {
    if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
    signal(signal_number, SIG_DFL);
  }
  if (setsid() < 0) return fail(context, STAGE_SETSID);
  if (move_descriptor(context->stdin_fd, 0) < 0 || move_descriptor(context->stdout_fd, 1) < 0 || move_descriptor(context->stderr_fd, 2) < 0) return fail(context, STAGE_STDIO);
  // Nothing of the launcher's is inherited, whatever its descriptors' close-on-exec flags say.
  syscall(LAPIS_SYS_CLOSE_RANGE, 3U, ~0U, 0U);
  // Before the ids change, as libuv does: a node's directories may lie under a data directory only root may cross (0700).
  if (context->cwd != NULL && chdir(context->cwd) < 0) return fail(context, STAGE_CWD);
  if (context->uid >= 0 || context->gid >= 0) {
    // Raw calls: glibc's wrappers would signal every thread of the launcher to change its ids too.
    if (syscall(SYS_setgroups, (size_t)context->group_count, context->groups) < 0) return fail(context, STAGE_GROUPS);
    if (context->gid >= 0 && syscall(SYS_setresgid, (gid_t)context->gid, (gid_t)context->gid, (gid_t)context->gid) < 0) return fail(context, STAGE_GID);
    if (context->uid >= 0 && syscall(SYS_setresuid, (uid_t)context->uid, (uid_t)context->uid, (uid_t)context->uid) < 0) return fail(context, STAGE_UID);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  exec_searching(context);
  return fail(context, STAGE_EXEC);
}

/* ---- N-API glue ---- */

#define CHECK(call)                                  \
  do {                                               \
    if ((call) != napi_ok) goto napi_failed;         \
  } while (0)

static char *string_of(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (text == NULL) return NULL;
  if (napi_get_value_string_utf8(env, value, text, length + 1, &length) != napi_ok) {
    free(text);
    return NULL;
  }
  return text;
}

/** A JavaScript array of strings as a NULL-terminated vector; `front` empty slots are left at its start. */
static char **strings_of(napi_env env, napi_value array, uint32_t front, uint32_t *count) {
  uint32_t length = 0;
  if (napi_get_array_length(env, array, &length) != napi_ok) return NULL;
  char **vector = calloc((size_t)length + front + 1, sizeof(char *));
  if (vector == NULL) return NULL;
  for (uint32_t index = 0; index < length; index++) {
    napi_value element;
    if (napi_get_element(env, array, index, &element) != napi_ok || (vector[front + index] = string_of(env, element)) == NULL) {
      for (uint32_t done = 0; done < index; done++) free(vector[front + done]);
      free(vector);
      return NULL;
    }
  }
  *count = length;
  return vector;
}

static void free_strings(char **vector, uint32_t front, uint32_t count) {
  if (vector == NULL) return;
  for (uint32_t index = 0; index < count; index++) free(vector[front + index]);
  free(vector);
}

static napi_value result_object(napi_env env, long pid, int error, int stage) {
  napi_value object, value;
  if (napi_create_object(env, &object) != napi_ok) return NULL;
  if (pid > 0) {
    napi_create_int64(env, pid, &value);
    napi_set_named_property(env, object, "pid", value);
  } else {
    napi_create_int32(env, error, &value);
    napi_set_named_property(env, object, "errno", value);
    napi_create_string_utf8(env, STAGE_NAMES[stage], NAPI_AUTO_LENGTH, &value);
    napi_set_named_property(env, object, "stage", value);
  }
  return object;
}

static long int_of(napi_env env, napi_value value) {
  int64_t number = -1;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) return -1;
  napi_get_value_int64(env, value, &number);
  return (long)number;
}

static int is_nullish(napi_env env, napi_value value) {
  napi_valuetype type;
  return napi_typeof(env, value, &type) != napi_ok || type == napi_null || type == napi_undefined;
}

/**
 * spawn(file, argv, envp, cwd, uid, gid, groups, stdoutFd, stderrFd, cgroupPath)
 * → { pid } or { errno, stage }. uid and gid are -1 to keep the launcher's;
 * groups (supplementary, with the uid) may be null; cgroupPath null to stay in
 * the launcher's group. Strings must hold no NUL (the launcher checks).
 */
static napi_value spawn_process(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value args[10];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok) return NULL;
  if (argc < 10) {
    napi_throw_type_error(env, NULL, "spawn takes 10 arguments");
    return NULL;
  }
#if !LAPIS_CAN_CLONE3
  return result_object(env, -1, ENOSYS, STAGE_CLONE);
#else
  struct child_context context;
  memset(&context, 0, sizeof context);
  uint32_t argv_count = 0, envp_count = 0;
  char *file = string_of(env, args[0]);
  char **shell_argv = strings_of(env, args[1], 1, &argv_count);
  char **envp = strings_of(env, args[2], 0, &envp_count);
  char *cwd = is_nullish(env, args[3]) ? NULL : string_of(env, args[3]);
  char *cgroup_path = is_nullish(env, args[9]) ? NULL : string_of(env, args[9]);
  gid_t *groups = NULL;
  uint32_t group_count = 0;
  napi_value result = NULL;
  int cgroup_fd = -1;
  if (!is_nullish(env, args[6])) {
    CHECK(napi_get_array_length(env, args[6], &group_count));
    groups = calloc(group_count + 1, sizeof(gid_t));
    for (uint32_t index = 0; groups != NULL && index < group_count; index++) {
      napi_value element;
      CHECK(napi_get_element(env, args[6], index, &element));
      groups[index] = (gid_t)int_of(env, element);
    }
  }
  context.path_buffer_size = PATH_MAX + 1;
  context.path_buffer = malloc(context.path_buffer_size);
  if (file == NULL || shell_argv == NULL || envp == NULL || context.path_buffer == NULL || (!is_nullish(env, args[6]) && groups == NULL)) {
    result = result_object(env, -1, ENOMEM, STAGE_CLONE);
    goto done;
  }
  shell_argv[0] = "/bin/sh";
  context.file = file;
  context.argv = shell_argv + 1;
  context.shell_argv = shell_argv;
  context.envp = envp;
  context.cwd = cwd;
  context.search_path = "/bin:/usr/bin";
  for (uint32_t index = 0; index < envp_count; index++) {
    if (strncmp(envp[index], "PATH=", 5) == 0) context.search_path = envp[index] + 5;
  }
  context.uid = int_of(env, args[4]);
  context.gid = int_of(env, args[5]);
  context.groups = groups;
  context.group_count = group_count;
  context.stdout_fd = (int)int_of(env, args[7]);
  context.stderr_fd = (int)int_of(env, args[8]);
  if (dev_null < 0) dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
  context.stdin_fd = dev_null;

  struct lapis_clone_args clone_args;
  memset(&clone_args, 0, sizeof clone_args);
  clone_args.flags = LAPIS_CLONE_VM | LAPIS_CLONE_VFORK;
  clone_args.exit_signal = SIGCHLD;
  clone_args.stack = (uint64_t)(uintptr_t)child_stack;
  clone_args.stack_size = sizeof child_stack;
  if (cgroup_path != NULL) {
    cgroup_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) {
      result = result_object(env, -1, errno, STAGE_CGROUP);
      goto done;
    }
    clone_args.flags |= LAPIS_CLONE_INTO_CGROUP;
    clone_args.cgroup = (uint64_t)cgroup_fd;
  }

  // No signal handler of the launcher's may run in the child, which shares its memory.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  long pid = lapis_clone3(&clone_args, sizeof clone_args, child_main, &context);
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  if (pid < 0) {
    result = result_object(env, -1, (int)-pid, STAGE_CLONE);
  } else if (context.error != 0) {
    int status;
    while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {
    }
    result = result_object(env, -1, context.error, context.stage);
  } else {
    result = result_object(env, pid, 0, STAGE_NONE);
  }

done:
  if (cgroup_fd >= 0) close(cgroup_fd);
  free(file);
  free(cwd);
  free(cgroup_path);
  free(groups);
  free(context.path_buffer);
  free_strings(shell_argv, 1, argv_count);
  free_strings(envp, 0, envp_count);
  return result;
napi_failed:
  result = NULL;
  goto done;
#endif
}

/** Every child that has ended, reaped: a flat array of [pid, exit code or -1, signal number or 0] triples. */
static napi_value reap(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value list, value;
  if (napi_create_array(env, &list) != napi_ok) return NULL;
  uint32_t index = 0;
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    napi_create_int64(env, pid, &value);
    napi_set_element(env, list, index++, value);
    napi_create_int32(env, code, &value);
    napi_set_element(env, list, index++, value);
    napi_create_int32(env, signal_number, &value);
    napi_set_element(env, list, index++, value);
  }
  return list;
}

/** Whether clone3 can be used here: not in a container whose seccomp profile refuses it (ENOSYS), nor off x86-64. */
static napi_value available(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value answer;
  int usable = 0;
#if LAPIS_CAN_CLONE3
  // An empty argument block is refused with EINVAL where clone3 exists.
  usable = syscall(LAPIS_SYS_CLONE3, NULL, 0) < 0 && errno == EINVAL;
#endif
  napi_get_boolean(env, usable, &answer);
  return answer;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"spawn", NULL, spawn_process, NULL, NULL, NULL, napi_default, NULL},
      {"reap", NULL, reap, NULL, NULL, NULL, napi_default, NULL},
      {"available", NULL, available, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}
