/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* MESSAGE_ID= values; doc/patroni-debiand.catalog explains each. */
#define MESSAGE_CONFIG_GENERATED "4fac7f9e20ab420590db7d1d5c19a491"
#define MESSAGE_GENERATE_FAILED "9a2c48f6c4d94d568cf380d1748e0e46"
#define MESSAGE_UNIT_START "ace57e64b27b401a853fe97019d2ced0"
#define MESSAGE_UNIT_STOP "a41b0bceee4248728ce9a48fba54b15c"
#define MESSAGE_UNIT_RELOAD "7eb220f65997491faa0c3b7c724d9132"
#define MESSAGE_CLUSTER_SKIPPED "2b347a36e2344b4f83470fc2ae3d542d"
#define MESSAGE_CLUSTER_REMOVED "eac6bfbe94fa4d2295ff43aba9a334eb"
#define MESSAGE_RELOAD_REJECTED "84283b878eae450492e1b1e5cc20fd88"
#define MESSAGE_TAKEOVER_START "e1d5b2c7a9f34e6d8b0c3a5f7e2d9b41"
#define MESSAGE_TAKEOVER_OFF "7c3e9a1f5b2d4e8a9c6f0b3d1e7a5c22"
#define MESSAGE_CONFIG_CONFLICT "d3a8f15e6c2b4b7e9f0a4c1d2e8b6a57"
#define MESSAGE_CONFIG_REMOVED "61e4c9b2a7f34d58b0c6e2a9d1f7b3c4"
/* Logged by the takeover helper (patroni-debiand-takeover). */
#define MESSAGE_TAKEOVER_STEP "3d1f6e2c8b5a4f0e9c7d2a1b6e4f8c03"
#define MESSAGE_TAKEOVER_DONE "a6c2e9f14d7b4a3c8e5f1d0b9a2c7e64"
#define MESSAGE_TAKEOVER_FAILED "5b8e0d3a6f2c4e19b7a4c1d8e3f60a95"
#define MESSAGE_TAKEOVER_SECRET "c94f7a2e1b3d4c6a8f0e5b2d7a9c1e38"
#define MESSAGE_SECRET_GENERATED MESSAGE_TAKEOVER_SECRET /* the same event, whoever generates them */
