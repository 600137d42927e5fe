#!/usr/bin/env bash
# Installs every build, test and run-time dependency from Debian 12 packages.
# Safe to run twice: apt-get skips what is already installed, and the package
# lists are only refreshed when a package is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates curl procps iproute2 util-linux
  clang llvm libclang-rt-14-dev libbpf-dev bpftool libelf-dev linux-libc-dev
  prometheus-cpp-dev libcpp-httplib-dev libsqlite3-dev sqlite3 nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libyaml-cpp-dev zlib1g-dev libboost1.74-dev
  prometheus prometheus-alertmanager bpftrace python3 python3-yaml jsonnet
  chromium fonts-dejavu-core
  protobuf-compiler libprotobuf-dev libsnappy-dev victoria-metrics
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's prometheus postinst starts the service where it can; keep our
  # test ports free by refusing service starts during the install.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
