#!/usr/bin/env bash
# Makes the built-in busybox:latest image offline from Debian's busybox-static (DESIGN.md §6) and imports it
# into the daemon named by PETI_HOST (default socket). Idempotent: an existing busybox:latest is kept unless
# --force is given.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
peti="$here/bin/peti"
tag=${PETI_BUSYBOX_TAG:-busybox:latest}
if [ "${1:-}" != "--force" ] && "$peti" image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag already present"
  exit 0
fi
bb=$(command -v busybox || true)
[ -n "$bb" ] && "$bb" --list-full >/dev/null 2>&1 || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q 'dynamically linked' && { echo "$bb is not static: install busybox-static" >&2; exit 1; }
root=$(mktemp -d /tmp/peti-busybox.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var/spool/mail,var/www,proc,sys,dev}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
install -m 0755 "$bb" "$root/bin/busybox"
for applet in $("$bb" --list-full); do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$root/$(dirname "$applet")"
  ln -f "$root/bin/busybox" "$root/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
floppy:x:11:
dialout:x:18:
audio:x:29:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
G
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' > "$root/etc/shadow"
chmod 640 "$root/etc/shadow"
# A fixed mtime makes the layer, and so the image ID, the same on every machine with the same busybox.
find "$root" -exec touch -h -d '2024-01-01T00:00:00Z' {} +
tar --numeric-owner --owner=0 --group=0 --sort=name --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$root" -cf - . | "$peti" import --change 'CMD ["sh"]' - "$tag" >/dev/null
echo "made $tag"
