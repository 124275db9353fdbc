#!/usr/bin/env bash
# Build offline Debian base images for lambdarig's function images, without any registry pull:
#   debootstrap --variant=minbase --include=python3 SUITE ROOTFS  +  docker import ROOTFS TAG
#
#   bookworm -> lambdarig-base:bookworm (Python 3.11)
#   trixie   -> lambdarig-base:trixie   (Python 3.13)
#
# Usage: images/base/build-base.sh [bookworm|trixie|all]   (default: all)
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), LAMBDARIG_BASE_REPO
#   (default lambdarig-base).
# Idempotent: a suite whose tag already exists is skipped. Needs root, debootstrap and a Docker
# engine. About 40 s per suite.
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REPO="${LAMBDARIG_BASE_REPO:-lambdarig-base}"

python_for() {
    case "$1" in
        bookworm) echo 3.11 ;;
        trixie) echo 3.13 ;;
        *) echo "build-base.sh: expected a suite 'bookworm', 'trixie' or 'all', got '$1'" >&2; return 2 ;;
    esac
}

build_suite() {
    local suite="$1" python tag rootfs
    python="$(python_for "$suite")"
    tag="${REPO}:${suite}"
    if docker image inspect "$tag" >/dev/null 2>&1; then
        echo "build-base.sh: ${tag} exists, skipping"
        return 0
    fi
    rootfs="$(mktemp -d "/tmp/lambdarig-base-${suite}.XXXXXX")"
    # shellcheck disable=SC2064  # expand now: the trap must remove this suite's rootfs
    trap "rm -rf '$rootfs'" RETURN
    echo "build-base.sh: debootstrap ${suite} into ${rootfs}"
    debootstrap --variant=minbase --include=python3 "$suite" "$rootfs" "$MIRROR" >"${rootfs}.log" 2>&1 \
        || { tail -n 30 "${rootfs}.log" >&2; rm -f "${rootfs}.log"; return 1; }
    rm -f "${rootfs}.log"
    # Trim what a function image never needs: package caches, docs, man pages, locales.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/usr/share/locale/*
    chroot "$rootfs" "python${python}" -c 'import zipfile, ssl' \
        || { echo "build-base.sh: python${python} does not run in the ${suite} rootfs" >&2; return 1; }
    tar -C "$rootfs" -c . | docker import \
        --change "ENV LANG=C.UTF-8" \
        --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        --change 'CMD ["/bin/bash"]' \
        --message "lambdarig offline base: debootstrap minbase ${suite} + python${python}" \
        - "$tag" >/dev/null
    docker tag "$tag" "${REPO}:python${python}" >/dev/null
    echo "build-base.sh: built ${tag} (python${python}, also tagged ${REPO}:python${python})"
}

main() {
    local which="${1:-all}"
    if [ "$which" = all ]; then
        build_suite bookworm
        build_suite trixie
    else
        python_for "$which" >/dev/null
        build_suite "$which"
    fi
}

main "$@"
