#!/bin/sh
# grub-counting.sh on UEFI (OVMF): the same GRUB boot counting checks with
# the x86_64-efi GRUB (in make check; alone: make check-rollback).
GRUB_COUNTING_FIRMWARE=uefi
. "$abs_top_srcdir/tests/install/grub-counting.sh"
