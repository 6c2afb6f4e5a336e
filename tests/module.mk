# Unit tests of lib/.
UNITS += rec lineio
unit-rec_SRCS := tests/unit/rec_test.c
unit-lineio_SRCS := tests/unit/lineio_test.c
