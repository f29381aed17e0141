/*
 * The lines a rotation run prints and commits (rotator/rotate.h): each
 * changing domain's plan, "from -> to".
 */
#include "common/buf.h"
#include "common/config.h"
#include "rotator/keys.h"
#include "rotator/policy.h"
#include "rotator/rotate.h"

static const char *
state_of(const struct dk_domain_keys *dk, const char *sel)
{
	const struct dk_keyinfo *k = dk_domain_keys_find(dk, sel);

	return k != NULL ? dk_state_name(k->state) : "?";
}

/* "+SEL pending (rsa 2048); SEL active -> retiring" */
int
dk_rotate_describe(const struct dk_domain_keys *dk,
    const struct dk_plan *plan, struct dk_buf *line)
{
	const struct dk_action *a;
	const char *to;
	size_t i;
	int rc = 0, n = 0;

	for (i = 0; i < plan->n && rc == 0; i++) {
		a = &plan->actions[i];
		to = NULL;
		switch (a->type) {
		case DK_ACT_GENERATE:
			rc = dk_buf_printf(line, "%s+%s pending (%s %d)",
			    n++ ? "; " : "", a->selector, dk_alg_name(a->alg),
			    a->bits);
			continue;
		case DK_ACT_ACTIVATE:
			to = "active";
			break;
		case DK_ACT_DEACTIVATE:
			to = "retiring";
			break;
		case DK_ACT_RETIRE:
			to = "retired";
			break;
		case DK_ACT_REVOKE:
			to = "revoked";
			break;
		case DK_ACT_LEAVE:
		case DK_ACT_RESUME:
			/* Rule 8: "leaving", "back in dkimrot.yaml". */
			rc = dk_buf_printf(line, "%s%s", n++ ? "; " : "",
			    a->type == DK_ACT_LEAVE ? "leaving" :
			    "back in dkimrot.yaml");
			continue;
		default:
			continue;
		}
		rc = dk_buf_printf(line, "%s%s %s -> %s", n++ ? "; " : "",
		    a->selector, state_of(dk, a->selector), to);
	}
	return rc;
}

/* Described before they are applied: the lines say "from -> to". */
int
dk_rotate_describe_jobs(struct dk_rotate *run)
{
	struct dk_rotate_job *j;
	size_t i;

	for (i = 0; i < run->n; i++) {
		j = &run->jobs[i];
		if (j->rc != 0 || !dk_plan_has_changes(&j->plan))
			continue;
		if (dk_buf_printf(&j->line, "%s: ", j->dc->name) != 0 ||
		    dk_rotate_describe(j->dk, &j->plan, &j->line) != 0)
			return -1;
	}
	return 0;
}
