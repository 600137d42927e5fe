#include "common/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/time.h"

namespace ss {

std::string ExecResult::describe() const {
  if (timed_out) return fmt::format("timed out after {} ms and was killed", elapsed_ms);
  if (signal) return fmt::format("killed by signal {}", signal);
  std::string first = err.substr(0, err.find('\n'));
  if (first.size() > 300) first.resize(300);
  if (first.empty()) return fmt::format("exit code {}", exit_code);
  return fmt::format("exit code {}: {}", exit_code, first);
}

namespace {
void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}
}  // namespace

Result<ExecResult> run_command(const std::vector<std::string>& argv, const ExecOptions& opt) {
  if (argv.empty() || argv[0].empty()) return Error{"empty command"};
  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return errorf("pipe: {}", std::strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]), ::close(out_pipe[1]);
    return errorf("pipe: {}", std::strerror(errno));
  }
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]), ::close(out_pipe[1]), ::close(err_pipe[0]), ::close(err_pipe[1]);
    return errorf("pipe: {}", std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Build the environment before fork: only async-signal-safe calls may run in the child.
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  std::vector<std::string> extra = opt.env;
  for (auto& e : extra) envp.push_back(e.data());
  envp.push_back(nullptr);

  int64_t start = monotonic_ms();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], exec_pipe[0], exec_pipe[1]}) ::close(fd);
    return errorf("fork: {}", std::strerror(e));
  }
  if (pid == 0) {
    setpgid(0, 0);  // own process group, so a timeout kills grandchildren too
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execvpe(args[0], args.data(), envp.data());
    int e = errno;
    (void)!write(exec_pipe[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t n = read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  ::close(exec_pipe[0]);
  if (n == sizeof exec_errno) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    waitpid(pid, nullptr, 0);
    return errorf("cannot run {}: {}", argv[0], std::strerror(exec_errno));
  }

  ExecResult r;
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* bufs[2] = {&r.out, &r.err};
  bool overflow = false;
  char chunk[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    int64_t left = opt.timeout_ms - (monotonic_ms() - start);
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd p[2];
    int np = 0;
    int which[2];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) {
        p[np] = {fds[i], POLLIN, 0};
        which[np++] = i;
      }
    int rc = poll(p, np, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (rc < 0 && errno != EINTR) break;
    for (int k = 0; k < np; ++k) {
      if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int i = which[k];
      ssize_t got = read(fds[i], chunk, sizeof chunk);
      if (got <= 0) {
        close_fd(fds[i]);
        continue;
      }
      bufs[i]->append(chunk, static_cast<size_t>(got));
      if (bufs[i]->size() > opt.max_output_bytes) overflow = true;
    }
    if (overflow) break;
  }
  if (r.timed_out || overflow) kill(-pid, SIGKILL);
  close_fd(fds[0]);
  close_fd(fds[1]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.elapsed_ms = monotonic_ms() - start;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (overflow && !r.timed_out)
    return errorf("{} printed more than {} bytes and was killed", argv[0], opt.max_output_bytes);
  return r;
}

Result<std::string> run_for_output(const std::vector<std::string>& argv, const ExecOptions& opt) {
  auto r = run_command(argv, opt);
  if (!r) return r.error();
  if (!r->succeeded()) return errorf("{}: {}", argv[0], r->describe());
  return std::move(r->out);
}

}  // namespace ss
