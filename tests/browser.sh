#!/usr/bin/env bash
# Debian's chromium and its driver, for the page's end-to-end tests (tests/test_web_page.py).
# Run by `make test`'s set-up; installs them with apt when missing (as root), else says how.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium and chromium-driver for the browser tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) >&2
else
  echo "the browser tests need chromium and chromedriver: sudo apt-get install chromium chromium-driver" >&2
fi
