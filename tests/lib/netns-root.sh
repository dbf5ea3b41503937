# Sourced inside `unshare -n -m`: give the temporary root $T a /proc/sys
# that is the real kernel's, read-only except for net/, which belongs to
# the private network namespace we are in.  So whatever a test (or a bug)
# writes can only reach this namespace's net.* keys, never the host's
# kernel.* keys.
mount --make-rprivate /
mkdir -p "$T/proc/sys"
mount --bind /proc/sys "$T/proc/sys"
mount -o remount,bind,ro "$T/proc/sys"
mount --bind /proc/sys/net "$T/proc/sys/net"
mount -o remount,bind,rw "$T/proc/sys/net"
