/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between the built-in host's files: api.c (<linux/async.h>), host.c (parameters,
 * workqueue attributes, module notifier, late set-up) and host.rs (the engine's birth).
 */
#ifndef _RASYNC_BUILTIN_H
#define _RASYNC_BUILTIN_H

/* host.rs: builds and publishes the engine; 0 or a negative errno. */
int rasync_builtin_init(void);

/* host.c: what needs the engine running (module notifier). */
void rasync_builtin_host_init(void);

#endif /* _RASYNC_BUILTIN_H */
