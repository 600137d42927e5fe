#include "agent/sources/gpu/gpu_parse.h"

#include <charconv>
#include <map>

#include <fmt/format.h>

#include "common/text.h"

namespace ss::agent::gpu {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!trim(line).empty()) f(trim(line), line_no);
  }
}

bool parse_double(std::string_view s, double& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// A number, or NaN for nvidia-smi's "[N/A]", "[Not Supported]", "N/A"; false when it is neither.
bool smi_value(std::string_view s, double& out) {
  if (s.starts_with("[") || s == "N/A") {
    out = NAN;
    return true;
  }
  return parse_double(s, out);
}

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

Result<std::vector<GpuReading>> parse_smi_gpus(std::string_view csv) {
  std::vector<GpuReading> out;
  std::string error;
  for_each_line(csv, [&](std::string_view line, size_t no) {
    if (!error.empty()) return;
    auto f = split(line, ',');
    if (f.size() != 5) {
      error = fmt::format("nvidia-smi --query-gpu line {}: expected 5 fields ({}), got \"{}\"", no, kSmiGpuQuery, line);
      return;
    }
    GpuReading r;
    double index = 0, util = 0, mem = 0;
    if (!parse_double(trim(f[0]), index) || index < 0 || !smi_value(trim(f[3]), util) || !smi_value(trim(f[4]), mem)) {
      error = fmt::format("nvidia-smi --query-gpu line {}: not numbers where expected: \"{}\"", no, line);
      return;
    }
    r.index = static_cast<unsigned>(index);
    r.uuid = std::string(trim(f[1]));
    r.model = std::string(trim(f[2]));
    r.utilization = util / 100.0;
    r.memory_used_bytes = mem * kMiB;
    out.push_back(std::move(r));
  });
  if (!error.empty()) return Error{error};
  return out;
}

Result<std::vector<SmiApp>> parse_smi_apps(std::string_view csv) {
  std::vector<SmiApp> out;
  std::string error;
  for_each_line(csv, [&](std::string_view line, size_t no) {
    if (!error.empty()) return;
    // "No running processes found" is what some versions print instead of nothing.
    if (line.starts_with("No running")) return;
    auto f = split(line, ',');
    double pid = 0, mem = 0;
    if (f.size() != 3 || !parse_double(trim(f[1]), pid) || pid <= 0 || !smi_value(trim(f[2]), mem)) {
      error = fmt::format("nvidia-smi --query-compute-apps line {}: expected {}, got \"{}\"", no, kSmiAppsQuery, line);
      return;
    }
    out.push_back({std::string(trim(f[0])), {static_cast<int>(pid), std::isnan(mem) ? 0.0 : mem * kMiB}});
  });
  if (!error.empty()) return Error{error};
  return out;
}

namespace {

struct PromLine {
  std::string_view name;
  std::map<std::string, std::string, std::less<>> labels;
  double value = 0;
};

// One sample line of the Prometheus text format; false when it is not one (the caller reports it).
bool parse_prom_line(std::string_view line, PromLine& out) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  out.name = line.substr(0, i);
  out.labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t eq = line.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      std::string name(trim(line.substr(i, eq - i)));
      std::string value;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.size()) return false;
      out.labels[name] = value;
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;
  }
  auto rest = trim(line.substr(i));
  auto space = rest.find(' ');  // an optional timestamp follows the value
  std::string_view v = rest.substr(0, space);
  if (v == "NaN") {
    out.value = NAN;
    return true;
  }
  return parse_double(v, out.value);
}

}  // namespace

Result<std::vector<GpuReading>> parse_dcgm_metrics(std::string_view text) {
  struct Acc {
    GpuReading r;
    double engine_active = NAN, gpu_util = NAN;
  };
  std::map<std::string, Acc> gpus;  // by UUID (gpu index when absent)
  std::string error;
  for_each_line(text, [&](std::string_view line, size_t no) {
    if (!error.empty() || line.front() == '#') return;
    PromLine p;
    if (!parse_prom_line(line, p)) {
      error = fmt::format("dcgm-exporter metrics line {}: not a Prometheus sample: \"{}\"", no, line);
      return;
    }
    bool engine = p.name == "DCGM_FI_PROF_GR_ENGINE_ACTIVE", util = p.name == "DCGM_FI_DEV_GPU_UTIL",
         fb = p.name == "DCGM_FI_DEV_FB_USED";
    if (!engine && !util && !fb) return;
    auto label = [&](std::string_view k) {
      auto it = p.labels.find(k);
      return it == p.labels.end() ? std::string() : it->second;
    };
    std::string uuid = label("UUID"), index = label("gpu");
    Acc& a = gpus[uuid.empty() ? "#" + index : uuid];
    double idx = 0;
    if (parse_double(index, idx) && idx >= 0) a.r.index = static_cast<unsigned>(idx);
    a.r.uuid = uuid;
    if (a.r.model.empty()) a.r.model = label("modelName");
    if (a.r.job.empty()) {
      if (!label("hpc_job").empty())
        a.r.job = label("hpc_job");
      else if (!label("pod").empty())
        a.r.job = label("namespace").empty() ? label("pod") : label("namespace") + "/" + label("pod");
    }
    if (engine) a.engine_active = p.value;
    if (util) a.gpu_util = p.value / 100.0;
    if (fb) a.r.memory_used_bytes = p.value * kMiB;
  });
  if (!error.empty()) return Error{error};
  std::vector<GpuReading> out;
  for (auto& [key, a] : gpus) {
    a.r.utilization = std::isnan(a.engine_active) ? a.gpu_util : a.engine_active;
    out.push_back(std::move(a.r));
  }
  return out;
}

JobRef job_from_cgroup(std::string_view cgroup_file) {
  JobRef pod, unit;
  JobRef slurm;
  for_each_line(cgroup_file, [&](std::string_view line, size_t) {
    // hierarchy-ID:controller-list:cgroup-path
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return;
    auto parts = split(line.substr(c2 + 1), '/');
    bool kube = false;
    for (auto part : parts) {
      if (part.starts_with("job_") && part.size() > 4 &&
          part.substr(4).find_first_not_of("0123456789") == std::string_view::npos) {
        if (slurm.kind == JobRef::Kind::None) slurm = {JobRef::Kind::Slurm, std::string(part.substr(4))};
      }
      if (part.starts_with("kubepods")) kube = true;
      if (kube && pod.kind == JobRef::Kind::None) {
        // cgroupfs driver: "pod<uid>"; systemd driver: "kubepods-burstable-pod<uid_with_underscores>.slice".
        size_t at = part.starts_with("pod") ? 0 : part.find("-pod");
        if (at != std::string_view::npos) {
          std::string uid(part.substr(at == 0 ? 3 : at + 4));
          if (uid.ends_with(".slice")) uid.resize(uid.size() - 6);
          for (char& ch : uid)
            if (ch == '_') ch = '-';
          if (!uid.empty()) pod = {JobRef::Kind::Pod, uid};
        }
      }
      if (!kube && (part.ends_with(".service") || part.ends_with(".scope")))
        unit = {JobRef::Kind::Unit, std::string(part)};
    }
  });
  if (slurm.kind != JobRef::Kind::None) return slurm;
  if (pod.kind != JobRef::Kind::None) return pod;
  return unit;
}

std::pair<std::string, std::string> pod_from_log_dir(std::string_view dir_name) {
  // Namespace and pod names are DNS labels and subdomains: they never hold '_'.
  auto parts = split(dir_name, '_');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) return {};
  return {std::string(parts[2]), fmt::format("{}/{}", parts[0], parts[1])};
}

}  // namespace ss::agent::gpu
