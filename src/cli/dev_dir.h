/* dev_dir.h: `synod dev`'s data directory (DIR): made when missing, emptied of what synod dev
 * put there when --fresh asks, and checked to hold the cluster asked for. */
#ifndef SYN_CLI_DEV_DIR_H
#define SYN_CLI_DEV_DIR_H

#include <stddef.h>

#include "cli/dev_plan.h"

/* DIR/synod-dev.conf: the plan's stamp (dev_plan_stamp), written on first use. */
#define DEV_DIR_STAMP_NAME "synod-dev.conf"

/* Makes plan->data_dir (and its parents), with --fresh first deletes DIR/n1..n7, their logs
 * and the stamp (nothing else: DIR may be a directory the user also keeps other things in),
 * then lays plan out with the directory's absolute path. 0, SYN_EIO, SYN_EINVAL (the path
 * is too long), or SYN_EEXIST when DIR holds another cluster; a sentence in err. */
int dev_dir_prepare(struct dev_plan *plan, char *err, size_t err_size);

#endif
