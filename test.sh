#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian machine (Jupyter, Chromium and PyTorch
# as independent references; all from Debian's packages), then builds everything and runs every test,
# including the headless execution of every notebook. Usage: ./test.sh [extra Maven arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

need_pkgs=()
command -v jupyter >/dev/null && jupyter nbconvert --version >/dev/null 2>&1 || need_pkgs+=(jupyter-notebook jupyter-nbconvert jupyter-nbformat python3-nbclient jupyter-client python3-ipykernel)
command -v chromium >/dev/null || need_pkgs+=(chromium)
# the kernel's tests: Jupyter's kernel conformance suite, and the JDK's sources for Javadoc on Shift-Tab
/usr/bin/python3 -c 'import jupyter_kernel_test' >/dev/null 2>&1 || need_pkgs+=(python3-jupyter-kernel-test)
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java || echo /usr/bin/java)")")")
[[ -r "$java_home/lib/src.zip" ]] || need_pkgs+=(openjdk-17-source)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need_pkgs+=(python3-torch)
command -v npm >/dev/null || need_pkgs+=(npm)
command -v mvn >/dev/null || need_pkgs+=(maven)
if ((${#need_pkgs[@]})); then
  echo "test.sh: installing Debian packages: ${need_pkgs[*]}" >&2
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${need_pkgs[@]}"
fi

export DJL_OFFLINE=true OPT_OUT_TRACKING=true MALLOC_ARENA_MAX=2 PYDEVD_DISABLE_FILE_VALIDATION=1
mvn -B -ntp verify "$@"
