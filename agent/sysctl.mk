# Layer 1: kernel parameters.
libjefe_a_SOURCES += agent/layer_sysctl.c
