#!/usr/bin/env bash
# Installs the dnb binary that matches this runner, verified against the checksums committed at
# this ref of the action (release/SHA256SUMS), so pinning the action pins the bytes. Where this
# ref pins no release (release/VERSION absent, e.g. @main), dnb runs from source with Deno.
#
# Inputs (environment): DNB_RUNNER_OS, DNB_RUNNER_ARCH (runner.os, runner.arch), DNB_ACTION_PATH,
# DNB_INSTALL_DIR, DNB_DOWNLOAD_BASE (release download URL without the version).
# Adds DNB_INSTALL_DIR to GITHUB_PATH and sets the step output `path` when those files are given.
set -euo pipefail

fail() {
  echo "dnb install: $*" >&2
  [ -n "${GITHUB_ACTIONS:-}" ] && echo "::error::dnb install: $*"
  exit 1
}

case "${DNB_RUNNER_OS:-}/${DNB_RUNNER_ARCH:-}" in
  Linux/X64) platform=linux-x64 ;;
  Linux/ARM64) platform=linux-arm64 ;;
  macOS/X64) platform=darwin-x64 ;;
  macOS/ARM64) platform=darwin-arm64 ;;
  *) fail "unsupported runner ${DNB_RUNNER_OS:-?}/${DNB_RUNNER_ARCH:-?}: dnb runs on Linux and macOS, x64 and arm64" ;;
esac

action_path=${DNB_ACTION_PATH:?DNB_ACTION_PATH is required}
install_dir=${DNB_INSTALL_DIR:?DNB_INSTALL_DIR is required}
mkdir -p "$install_dir"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d ' ' -f 1; else shasum -a 256 "$1" | cut -d ' ' -f 1; fi
}

version=""
[ -f "$action_path/release/VERSION" ] && version=$(tr -d '[:space:]' <"$action_path/release/VERSION")

if [ -z "$version" ]; then
  # No release pinned at this ref: run the same code from source with a pinned Deno from npm.
  echo "dnb install: no release is pinned at this ref; running dnb from source with Deno 2.9.6"
  for name in dnb stop-nix-builders; do
    extra=""
    [ "$name" = stop-nix-builders ] && extra=" stop"
    printf '#!/bin/sh\nexec npx -y deno@2.9.6 run -A --frozen --config "%s/deno.json" "%s/main.ts"%s "$@"\n' \
      "$action_path" "$action_path" "$extra" >"$install_dir/$name"
    chmod 755 "$install_dir/$name"
  done
else
  asset="dnb-$platform"
  expected=$(awk -v asset="$asset" '$2 == asset || $2 == "*" asset { print $1 }' "$action_path/release/SHA256SUMS")
  [ -n "$expected" ] || fail "release/SHA256SUMS has no checksum for $asset"
  url="${DNB_DOWNLOAD_BASE:?DNB_DOWNLOAD_BASE is required}/$version/$asset"
  partial="$install_dir/.dnb.partial"
  trap 'rm -f "$partial"' EXIT
  status=$(curl --silent --show-error --location --retry 3 --output "$partial" --write-out '%{http_code}' "$url") ||
    fail "downloading $url failed"
  [ "$status" = 200 ] || fail "no $asset in release $version ($url answered HTTP $status)"
  actual=$(sha256_of "$partial")
  [ "$actual" = "$expected" ] || fail "$asset has sha256 $actual, expected $expected (pinned at this ref); not installed"
  chmod 755 "$partial"
  mv "$partial" "$install_dir/dnb"
  ln -sf dnb "$install_dir/stop-nix-builders"
  echo "dnb install: dnb $version for $platform, sha256 $actual"
fi

[ -n "${GITHUB_PATH:-}" ] && echo "$install_dir" >>"$GITHUB_PATH"
[ -n "${GITHUB_OUTPUT:-}" ] && echo "path=$install_dir/dnb" >>"$GITHUB_OUTPUT"
exit 0
