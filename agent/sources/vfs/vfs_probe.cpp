#include "agent/sources/vfs/vfs_probe.h"

#include "common/log.h"

namespace ss::agent::vfs {

std::string_view attach_mode_name(AttachMode mode) {
  switch (mode) {
    case AttachMode::Auto: return "auto";
    case AttachMode::Fentry: return "fentry";
    case AttachMode::TpBtf: return "tp_btf";
    case AttachMode::RawTp: return "raw_tp";
    case AttachMode::Syscalls: return "syscalls";
  }
  return "?";
}

Result<AttachMode> parse_attach_mode(std::string_view text) {
  for (AttachMode m : {AttachMode::Auto, AttachMode::Fentry, AttachMode::TpBtf, AttachMode::RawTp, AttachMode::Syscalls})
    if (text == attach_mode_name(m)) return m;
  return errorf("unknown attach mode '{}' (auto, fentry, tp_btf, raw_tp, syscalls)", text);
}

std::string_view op_name(uint32_t op) {
  static constexpr std::string_view names[SS_OP_COUNT] = {"",       "open",  "stat",    "readdir", "create",
                                                          "unlink", "mkdir", "rmdir",   "rename",  "setattr",
                                                          "xattr",  "close", "read",    "write",   "fsync"};
  return op < SS_OP_COUNT ? names[op] : "";
}

}  // namespace ss::agent::vfs

#ifndef STORMSCOPE_HAVE_EBPF
// Built without the BPF toolchain (or for fuzzing): the source exists and says why it cannot load.
namespace ss::agent::vfs {
struct Probe::Impl {};
Probe::Probe(std::unique_ptr<Impl> impl, AttachMode mode) : impl_(std::move(impl)), mode_(mode) {}
Probe::~Probe() = default;
Result<std::unique_ptr<Probe>> Probe::load(const ProbeOptions&) {
  return Error{"vfs probes: this build has no eBPF support (configure with clang, bpftool and libbpf)"};
}
Result<void> Probe::set_mounts(const std::vector<WatchedMount>&) { return ok(); }
Result<std::vector<OpCounts>> Probe::read_counts() const { return std::vector<OpCounts>{}; }
void Probe::forget(const std::vector<ss_op_key>&) {}
ProbeCounters Probe::counters() const { return {}; }
std::vector<ProgramStats> loaded_program_stats() { return {}; }
Result<int> Probe::poll_samples(int, const std::function<void(const ss_path_sample&)>&) { return 0; }
struct EmptyPrograms::Impl {};
EmptyPrograms::EmptyPrograms(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmptyPrograms::~EmptyPrograms() = default;
Result<std::unique_ptr<EmptyPrograms>> EmptyPrograms::attach(AttachMode, bool) {
  return Error{"vfs probes: this build has no eBPF support"};
}
}  // namespace ss::agent::vfs
#else

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "vfs.skel.h"
#include "vfs_floor.skel.h"

namespace ss::agent::vfs {

namespace {

constexpr const char* kTracefs = "/sys/kernel/tracing";

std::string errno_text(int err) {
  err = err < 0 ? -err : err;
  std::string text = std::strerror(err);
  if (err == EPERM || err == EACCES) text += " (needs root with CAP_BPF and CAP_PERFMON, and BPF not locked down)";
  return text;
}

// libbpf prints through this; warnings become log lines, the chatter of a successful load is dropped.
int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_WARN) return 0;
  // Whole messages: a verifier log runs to many kilobytes, and its end says why a load failed.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n > 0) {
    std::string buf(static_cast<size_t>(n) + 1, '\0');
    vsnprintf(buf.data(), buf.size(), format, args);
    std::string_view line(buf.data(), static_cast<size_t>(n));
    while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    log::debug("libbpf: {}", line);
  }
  return 0;
}

void fill_nr_table(vfs_bpf* skel) {
  auto& table = skel->rodata->nr_table;
#define SS_SYSCALL(nr, tp, nargs, op_, fd, path, flags_, flags_arg_)                                 \
  static_assert(__NR_##nr < SS_NR_MAX);                                                              \
  table[__NR_##nr] = ss_nr_info{static_cast<__u8>(op_), static_cast<__u8>(fd), static_cast<__u8>(path), \
                                static_cast<__u8>(flags_), static_cast<__u8>(flags_arg_), {}};
#include "ebpf/vfs_syscalls.h"
#undef SS_SYSCALL
}

// The programs of a mode, by the prefix of their names in vfs.bpf.c and vfs_floor.bpf.c.
bool belongs_to(const bpf_program* prog, AttachMode mode) {
  std::string_view name = bpf_program__name(prog);
  switch (mode) {
    case AttachMode::Fentry: return name.starts_with("fe_");
    case AttachMode::TpBtf: return name.starts_with("btf_");
    case AttachMode::RawTp: return name.starts_with("raw_");
    case AttachMode::Syscalls: return name.starts_with("sc_");
    case AttachMode::Auto: return false;
  }
  return false;
}

// Whether the running kernel has the function a fentry/fexit program is for (names change between kernels:
// a missing one is skipped like a missing syscall tracepoint, rather than failing the whole mode).
bool kernel_has_target(const btf* vmlinux, const bpf_program* prog) {
  std::string_view section = bpf_program__section_name(prog);
  auto slash = section.find('/');
  if (!vmlinux || slash == std::string_view::npos) return true;  // let the load say what is wrong
  std::string fn(section.substr(slash + 1));
  return btf__find_by_name_kind(vmlinux, fn.c_str(), BTF_KIND_FUNC) > 0;
}

bool tracefs_has_syscalls() {
  struct stat st {};
  return stat("/sys/kernel/tracing/events/syscalls", &st) == 0 || stat("/sys/kernel/debug/tracing/events/syscalls", &st) == 0;
}

Result<void> ensure_tracefs(bool may_mount) {
  if (tracefs_has_syscalls()) return ok();
  if (!may_mount) return errorf("syscall tracepoints need tracefs at {} (mount_tracefs is off)", kTracefs);
  if (mount("tracefs", kTracefs, "tracefs", 0, nullptr) != 0 && errno != EBUSY)
    return errorf("mounting tracefs at {}: {}", kTracefs, std::strerror(errno));
  if (!tracefs_has_syscalls()) return errorf("no syscall tracepoints under {} (CONFIG_FTRACE_SYSCALLS off?)", kTracefs);
  log::info("vfs: mounted tracefs at {} for the per-syscall tracepoints", kTracefs);
  return ok();
}

// Makes a kernel hash map hold exactly `wanted` (name -> value, each name turned into the map's key by
// `key_of`); `held` is what it held before, and afterwards what it holds.
template <class Name, class Value, class KeyOf>
Result<void> sync_map(bpf_map* map, std::set<Name>& held, const std::map<Name, Value>& wanted, KeyOf key_of,
                      std::string_view what) {
  int fd = bpf_map__fd(map);
  for (auto it = held.begin(); it != held.end();)
    if (!wanted.count(*it)) {
      auto key = key_of(*it);
      bpf_map_delete_elem(fd, &key);
      it = held.erase(it);
    } else {
      ++it;
    }
  for (const auto& [name, value] : wanted) {
    auto key = key_of(name);
    if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0)
      return errorf("vfs: {} table update for {}: {}", what, name, std::strerror(errno));
    held.insert(name);
  }
  return ok();
}

}  // namespace

struct Probe::Impl {
  vfs_bpf* skel = nullptr;
  std::vector<bpf_link*> links;
  ring_buffer* ring = nullptr;
  const std::function<void(const ss_path_sample&)>* sink = nullptr;
  std::set<std::string> prefixes;  // keys currently in mount_prefixes
  std::set<__u32> watched;         // devs currently marked
  std::set<std::string> long_heads;  // keys currently in long_heads
  int ncpus = 1;

  ~Impl() {
    if (ring) ring_buffer__free(ring);
    for (bpf_link* l : links) bpf_link__destroy(l);
    if (skel) vfs_bpf__destroy(skel);
  }

  static int on_sample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size >= sizeof(ss_path_sample) && self->sink) (*self->sink)(*static_cast<const ss_path_sample*>(data));
    return 0;
  }
};

namespace {

// Loads the programs of `mode` in `obj` (by `load`, the skeleton's; the other modes' programs stay unloaded) and
// attaches every one into `links`. On an error the caller destroys `links` with the object: a mode is attached
// whole or not at all. The error names the mode.
Result<void> load_and_attach(bpf_object* obj, AttachMode mode, bool mount_tracefs, const std::function<int()>& load,
                             std::vector<bpf_link*>& links, int* missing) {
  auto fail = [&](std::string_view what, int err) {
    return errorf("vfs probes ({}): {}: {}", attach_mode_name(mode), what, errno_text(err));
  };
  if (mode == AttachMode::Syscalls) {
    auto tracefs = ensure_tracefs(mount_tracefs);
    if (!tracefs) return errorf("vfs probes (syscalls): {}", tracefs.error().message);
  }
  btf* vmlinux = mode == AttachMode::Fentry ? btf__load_vmlinux_btf() : nullptr;
  int wanted = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    bool want = belongs_to(prog, mode);
    if (want && mode == AttachMode::Fentry && !kernel_has_target(vmlinux, prog)) {
      ++*missing;
      log::debug("vfs: the kernel has no {}", bpf_program__section_name(prog));
      want = false;
    }
    bpf_program__set_autoload(prog, want);
    wanted += want;
  }
  if (vmlinux) btf__free(vmlinux);
  if (wanted == 0) return errorf("vfs probes ({}): no programs for this mode", attach_mode_name(mode));
  if (int err = load()) return fail("load", err);
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      int err = errno;
      // A kernel without one of the calls (faccessat2 before 5.8 ...) just does not trace it.
      if (mode == AttachMode::Syscalls && err == ENOENT) {
        ++*missing;
        log::debug("vfs: no tracepoint for {}", bpf_program__name(prog));
        continue;
      }
      return fail(std::string("attach ") + bpf_program__name(prog), err);
    }
    links.push_back(link);
  }
  return ok();
}

// One attempt at one concrete mode.
Result<std::unique_ptr<Probe::Impl>> try_mode(AttachMode mode, const ProbeOptions& o, int* missing) {
  auto impl = std::make_unique<Probe::Impl>();
  auto fail = [&](std::string_view what, int err) {
    return errorf("vfs probes ({}): {}: {}", attach_mode_name(mode), what, errno_text(err));
  };
  impl->skel = vfs_bpf__open();
  if (!impl->skel) return fail("open", errno);
  vfs_bpf* skel = impl->skel;
  fill_nr_table(skel);
  skel->rodata->target_tgid = o.target_tgid;
  skel->rodata->ignore_tgid = o.ignore_tgid;
  skel->rodata->timed_per_sec = o.timed_per_sec;
  skel->rodata->samples_per_sec = o.samples_per_sec;
  skel->rodata->attributed_per_sec = o.attributed_per_sec;
  bpf_map__set_max_entries(skel->maps.stats, o.max_keys);

  if (auto r = load_and_attach(skel->obj, mode, o.mount_tracefs, [skel] { return vfs_bpf__load(skel); },
                               impl->links, missing);
      !r)
    return r.error();
  impl->ring = ring_buffer__new(bpf_map__fd(skel->maps.samples), &Probe::Impl::on_sample, impl.get(), nullptr);
  if (!impl->ring) return fail("ring buffer", errno);
  impl->ncpus = libbpf_num_possible_cpus();
  if (impl->ncpus <= 0) return fail("counting CPUs", impl->ncpus);
  return impl;
}

}  // namespace

Probe::Probe(std::unique_ptr<Impl> impl, AttachMode mode) : impl_(std::move(impl)), mode_(mode) {}
Probe::~Probe() = default;

Result<std::unique_ptr<Probe>> Probe::load(const ProbeOptions& options) {
  static std::once_flag print_once;
  std::call_once(print_once, [] { libbpf_set_print(libbpf_print); });
  std::vector<AttachMode> order;
  if (options.attach == AttachMode::Auto)
    order = {AttachMode::Fentry, kDefaultTracepointMode,
             kDefaultTracepointMode == AttachMode::Syscalls ? AttachMode::TpBtf : AttachMode::Syscalls,
             AttachMode::RawTp};
  else
    order = {options.attach};
  std::vector<std::string> errors;
  for (AttachMode mode : order) {
    int missing = 0;
    auto impl = try_mode(mode, options, &missing);  // a failed mode leaves nothing loaded or attached
    if (impl) {
      auto probe = std::unique_ptr<Probe>(new Probe(std::move(impl.value()), mode));
      probe->missing_programs_ = missing;
      probe->fallbacks_ = std::move(errors);
      return probe;
    }
    log::debug("vfs: {}", impl.error().message);
    errors.push_back(impl.error().message);
  }
  std::string all;
  for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
  return Error{all};
}

Result<void> Probe::set_mounts(const std::vector<WatchedMount>& mounts) {
  std::map<std::string, __u32> wanted;  // later mounts on the same point hide earlier ones
  std::map<std::string, bool> watched_of;
  std::map<__u32, __u32> watched;  // dev -> 1
  for (const WatchedMount& m : mounts) {
    std::string prefix = m.mount_point;
    if (prefix.empty() || prefix[0] != '/') continue;
    if (prefix.back() != '/') prefix += '/';
    if (prefix.size() > SS_PATH_MAX) continue;  // longer than a probe reads: cannot match
    wanted[prefix] = m.dev;
    watched_of[prefix] = m.watched;
    if (m.watched) watched[m.dev] = 1;
  }
  // How many path bytes the probes must read: the longest mount point whose answer (dev, watched) differs
  // from that of the mount it sits in — a shorter read would already give the same answer.
  size_t need = 8;
  std::map<std::string, __u8> long_heads;  // heads of the deciding mount points longer than a head -> 1
  for (const auto& [prefix, dev] : wanted) {
    const std::string* parent = nullptr;
    for (const auto& [other, other_dev] : wanted)
      if (other.size() < prefix.size() && prefix.starts_with(other) && (!parent || other.size() > parent->size()))
        parent = &other;
    bool differs = !parent || wanted[*parent] != dev || watched_of[*parent] != watched_of[prefix];
    if (differs && (watched_of[prefix] || (parent && watched_of[*parent]))) {
      need = std::max(need, prefix.size());
      if (prefix.size() > SS_ATTR_HEAD) long_heads[prefix.substr(0, SS_ATTR_HEAD)] = 1;
    }
  }
  impl_->skel->data->attr_bytes = static_cast<__u32>(std::min<size_t>((need + 7) / 8 * 8, SS_PATH_MAX));

  auto prefix_key = [](const std::string& prefix) {
    ss_path_key key{};
    key.prefixlen = static_cast<__u32>(prefix.size() * 8);
    std::memcpy(key.data, prefix.data(), prefix.size());
    return key;
  };
  auto head_key = [](const std::string& h) {
    ss_path_head head{};
    std::memcpy(&head, h.data(), std::min(h.size(), sizeof(head)));
    return head;
  };
  auto dev_key = [](__u32 dev) { return dev; };
  if (auto r = sync_map(impl_->skel->maps.mount_prefixes, impl_->prefixes, wanted, prefix_key, "mount prefix"); !r)
    return r;
  if (auto r = sync_map(impl_->skel->maps.watched, impl_->watched, watched, dev_key, "watched file system"); !r)
    return r;
  if (auto r = sync_map(impl_->skel->maps.long_heads, impl_->long_heads, long_heads, head_key, "long mount point");
      !r)
    return r;
  // The probes' per-CPU caches hold answers of the previous tables: a new generation retires them.
  __atomic_add_fetch(&impl_->skel->data->mount_gen, 1, __ATOMIC_SEQ_CST);
  return ok();
}

Result<std::vector<OpCounts>> Probe::read_counts() const {
  int fd = bpf_map__fd(impl_->skel->maps.stats);
  std::vector<ss_op_stats> per_cpu(impl_->ncpus);
  std::vector<OpCounts> out;
  ss_op_key key{}, next{};
  const ss_op_key* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;  // deleted meanwhile
    OpCounts c;
    c.key = key;
    for (const ss_op_stats& s : per_cpu) {
      c.count += s.count;
      c.errors += s.errors;
      c.bytes += s.bytes;
      c.sum_ns += s.sum_ns;
      for (int i = 0; i < SS_HIST_BUCKETS; i++) c.hist[i] += s.hist[i];
    }
    out.push_back(c);
  }
  if (errno != ENOENT && errno != 0 && out.empty() && prev == nullptr)
    return errorf("vfs: reading the stats map: {}", std::strerror(errno));
  return out;
}

void Probe::forget(const std::vector<ss_op_key>& keys) {
  int fd = bpf_map__fd(impl_->skel->maps.stats);
  for (const ss_op_key& k : keys) bpf_map_delete_elem(fd, &k);
}

ProbeCounters Probe::counters() const {
  int fd = bpf_map__fd(impl_->skel->maps.counters);
  std::vector<__u64> per_cpu(impl_->ncpus);
  auto sum = [&](__u32 index) {
    uint64_t total = 0;
    if (bpf_map_lookup_elem(fd, &index, per_cpu.data()) == 0)
      for (__u64 v : per_cpu) total += v;
    return total;
  };
  return ProbeCounters{sum(SS_CTR_MAP_FULL), sum(SS_CTR_SAMPLES_LOST)};
}

std::vector<ProgramStats> loaded_program_stats() {
  std::vector<ProgramStats> out;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;  // unloaded meanwhile
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
      out.push_back({id, std::string(info.name, strnlen(info.name, sizeof(info.name))), info.run_cnt, info.run_time_ns});
    close(fd);
  }
  return out;
}

Result<int> Probe::poll_samples(int timeout_ms, const std::function<void(const ss_path_sample&)>& sink) {
  impl_->sink = &sink;
  int n = ring_buffer__poll(impl_->ring, timeout_ms);
  impl_->sink = nullptr;
  if (n < 0 && n != -EINTR) return errorf("vfs: polling samples: {}", std::strerror(-n));
  return n < 0 ? 0 : n;
}

struct EmptyPrograms::Impl {
  vfs_floor_bpf* skel = nullptr;
  std::vector<bpf_link*> links;
  ~Impl() {
    for (bpf_link* l : links) bpf_link__destroy(l);
    if (skel) vfs_floor_bpf__destroy(skel);
  }
};

EmptyPrograms::EmptyPrograms(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmptyPrograms::~EmptyPrograms() = default;

Result<std::unique_ptr<EmptyPrograms>> EmptyPrograms::attach(AttachMode mode, bool mount_tracefs) {
  auto impl = std::make_unique<Impl>();
  impl->skel = vfs_floor_bpf__open();
  if (!impl->skel) return errorf("vfs empty programs: open: {}", errno_text(errno));
  int missing = 0;
  vfs_floor_bpf* skel = impl->skel;
  if (auto r = load_and_attach(skel->obj, mode, mount_tracefs, [skel] { return vfs_floor_bpf__load(skel); },
                               impl->links, &missing);
      !r)
    return r.error();
  return std::unique_ptr<EmptyPrograms>(new EmptyPrograms(std::move(impl)));
}

}  // namespace ss::agent::vfs

#endif  // STORMSCOPE_HAVE_EBPF
