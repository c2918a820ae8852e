#!/bin/sh
# aerostack lab image build: packages installed in the chroot must not start their services.
exit 101
