#!/usr/bin/env bash
# The whole wiredraw test suite, as run by CI (.ci/run) and by developers.
#
# On a fresh Debian machine it first installs the system packages the suite needs:
# as root it runs apt-get itself; otherwise it prints the exact command and stops.
# Then it checks formatting and lints, and runs every test in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."

# Binary or library each package provides, so a present package is never reinstalled.
declare -A PROVIDES=(
  [redis-server]=/usr/bin/redis-server
  [redis-tools]=/usr/bin/redis-cli
  [mesa-vulkan-drivers]=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
  [libvulkan1]=libvulkan.so.1
  [xvfb]=/usr/bin/Xvfb
  [xauth]=/usr/bin/xauth
  [xdotool]=/usr/bin/xdotool
  [libxkbcommon-x11-0]=libxkbcommon-x11.so.0
  [libx11-xcb1]=libX11-xcb.so.1
  [libxcursor1]=libXcursor.so.1
  [libxrandr2]=libXrandr.so.2
  [libxi6]=libXi.so.6
)

missing=()
for pkg in "${!PROVIDES[@]}"; do
  want=${PROVIDES[$pkg]}
  if [[ $want == /* ]]; then
    [[ -e $want ]] || missing+=("$pkg")
  else
    ldconfig -p 2>/dev/null | grep -q "$want" || missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  IFS=$'\n' sorted=($(sort <<<"${missing[*]}")); unset IFS
  if [[ $(id -u) -eq 0 ]]; then
    echo "test.sh: installing missing system packages: ${sorted[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y --no-install-recommends "${sorted[@]}"
  else
    echo "test.sh: missing system packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${sorted[*]}" >&2
    exit 1
  fi
fi

if [[ ! -d ../shared/data ]]; then
  echo "test.sh: ../shared/data (the real Zeek logs beside the repository) is missing; tests read it" >&2
  exit 1
fi

# Golden images are made with lavapipe's Vulkan; the GL backend's pixels differ slightly.
export WGPU_BACKEND=vulkan
export RUST_BACKTRACE=1

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (release, all targets, warnings are errors)"
cargo clippy --release --workspace --all-targets --locked -- -D warnings

echo "== cargo test (release)"
cargo test --release --workspace --locked

echo "test.sh: all checks passed"
