#!/bin/sh
# Makes the Dockerfile's base images, debian:bookworm and
# debian:bookworm-slim, in podman's local storage when they are missing,
# without any container registry: debootstrap a minimal Debian 12 root
# file system from the Debian mirror this machine's apt uses and import it.
# Once made, podman's storage keeps them and this script does nothing.
#
# As root it also configures podman for machines like this project's CI
# (a drop-in file in /etc/containers/containers.conf.d/, rewritten only
# when its content changes):
#  - default_ulimits = []: podman's default RLIMIT_NOFILE for root
#    containers is above the hard limit the sandbox allows, and setrlimit
#    then fails ("OCI permission denied"); the engine's own limits are kept.
#  - runtime "runc": crun 1.8 refuses to start on the hybrid cgroup layout
#    (v1 controllers plus an empty v2 hierarchy) these machines have.
#
# usage: scripts/base-images.sh        (root, or images already present)
# ROUTESIM_DEBIAN_MIRROR overrides the mirror (default: the one apt uses).
set -eu

log() { echo "base-images.sh: $*" >&2; }

CONF_DIR=/etc/containers/containers.conf.d
CONF="$CONF_DIR/50-routesim.conf"
CONF_TEXT='# Written by routesim scripts/base-images.sh.
[containers]
default_ulimits = []

[engine]
runtime = "runc"'

if [ "$(id -u)" -eq 0 ] &&
    [ "$(cat "$CONF" 2>/dev/null)" != "$CONF_TEXT" ]; then
	log "writing $CONF"
	mkdir -p "$CONF_DIR"
	printf '%s\n' "$CONF_TEXT" >"$CONF"
fi

if podman image exists debian:bookworm &&
    podman image exists debian:bookworm-slim; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	log "debian:bookworm images missing; run this script as root once"
	exit 1
fi
command -v debootstrap >/dev/null 2>&1 || {
	log "debootstrap is missing (scripts/deps.sh installs it)"
	exit 1
}

# The mirrors apt uses here (deb822 or one-line format), else Debian's.
apt_uri() { # $1: suite
	cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$1" '
	    /^URIs:/ { uri = $2 }
	    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) { print uri; exit } }
	    /^$/ { uri = "" }'
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
	    awk -v s="$1" '$1 == "deb" && $3 == s { print $2; exit }'
}
MIRROR=${ROUTESIM_DEBIAN_MIRROR:-$(apt_uri bookworm | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=$(apt_uri bookworm-security | head -n 1)
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}

work=$(mktemp -d /var/tmp/routesim-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
root="$work/rootfs"
log "debootstrap --variant=minbase bookworm from $MIRROR"
if ! debootstrap --variant=minbase bookworm "$root" "$MIRROR" \
    >"$work/debootstrap.log" 2>&1; then
	tail -n 20 "$work/debootstrap.log" >&2
	log "debootstrap failed"
	exit 1
fi

# As Debian's own images: the three suites in deb822 form, no package
# lists or caches, no machine id, a policy that starts no services.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$root/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
exit 101
EOF
chmod 755 "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log \
    "$root"/var/log/apt/* "$root"/tmp/* "$root"/etc/hostname
: >"$root/etc/machine-id"

import() { # $1: tag, rootfs on stdin
	podman import --quiet --change 'CMD ["bash"]' \
	    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	    - "$1" >/dev/null
	log "imported $1 ($(podman image inspect --format '{{.Size}}' "$1") bytes)"
}

if ! podman image exists debian:bookworm; then
	tar --numeric-owner -C "$root" -c . | import debian:bookworm
fi

# Slim, as Debian's: no documentation (copyright files stay), manual pages
# or translations, now or from packages installed later.
if ! podman image exists debian:bookworm-slim; then
	cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
	find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright \
	    -delete
	find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
	find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 \
	    ! -name locale.alias -exec rm -rf {} +
	rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* \
	    "$root"/usr/share/info/* "$root"/usr/share/lintian/*
	tar --numeric-owner -C "$root" -c . | import debian:bookworm-slim
fi
