/*
 * cmd-train.c: journeyscope train DB and journeyscope eval DB -- train
 * the sequence model on the store (train.h) with a progress bar, Ctrl-C
 * keeping the best model so far; evaluate a stored model by MODEL.md's
 * protocols with its baselines, the metrics stored with the model.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "explain.h"
#include "nn.h"
#include "store.h"
#include "tparse.h"
#include "train.h"

static const struct opt train_opt_table[] = {
	{ "epochs", 'e', "N", "at most N passes over the data (default 60)" },
	{ "batch", 'b', "N", "windows per step (default 128)" },
	{ "lr", 0, "RATE", "peak learning rate (default 0.001)" },
	{ "dim", 0, "D", "d_model (default 64)" },
	{ "layers", 0, "L", "blocks (default 2)" },
	{ "heads", 0, "H", "attention heads, dividing D (default 2)" },
	{ "max-len", 0, "N", "longest window in events (default 200)" },
	{ "dropout", 0, "P", "dropout probability, or auto (default): 0.5 "
	    "when customers average fewer than 20 events (sparse data), else "
	    "0.2" },
	{ "weight-decay", 0, "W", "AdamW weight decay (default 0.01)" },
	{ "adam-eps", 0, "E", "AdamW's epsilon, added to the root of the "
	    "second moment (default 3e-4)" },
	{ "warmup", 0, "STEPS", "learning-rate warm-up (default 1% of the "
	    "steps)" },
	{ "negatives", 0, "K", "next-item loss against K items sampled per "
	    "step; 0: every item, the full softmax (default 0)" },
	{ "item-loss", 0, "LOSS", "next item: softmax (over every item, or "
	    "--negatives), bce (SASRec's binary cross entropy against "
	    "--bce-negatives items drawn for each position) or softmax+bce, "
	    "their sum (default softmax; bce when only --bce-negatives is "
	    "given)" },
	{ "bce-negatives", 0, "N", "the binary cross entropy's negatives a "
	    "position (default 1, SASRec's)" },
	{ "horizon", 0, "DAYS", "churn: no activity for this long (default "
	    "30)" },
	{ "cutoff", 0, "TIME", "churn: the cut-off T (default: the last "
	    "event - horizon)" },
	{ "tasks", 0, "LIST", "churn,next-type,next-item (default: every "
	    "task the data supports)" },
	{ "threads", 'j', "N", "threads, each with single-threaded BLAS "
	    "(default 2)" },
	{ "seed", 's', "S", "random seed (default 1)" },
	{ "name", 'n', "NAME", "the model's name (default m1, m2, ...)" },
	{ "all", 0, NULL, "train on everything (production): no held-out "
	    "data, so the metrics are not held out" },
	{ "patience", 0, "N", "stop after N epochs without a better "
	    "validation score (default 5)" },
	{ "cache-mb", 0, "MB", "windows kept in memory between epochs "
	    "(default 1024)" },
	{ "churn-cutoffs", 0, "N", "churn: training labels at N cut-offs a "
	    "horizon apart, the latest T - horizon (default 6); windows "
	    "that begin alike are trained as one" },
	{ "quiet", 'q', NULL, "no progress bar" },
	{ NULL, 0, NULL, NULL }
};

static const struct opt eval_opt_table[] = {
	{ "model", 'm', "NAME", "the model (default: the newest)" },
	{ "json", 'j', NULL, "print the metrics as JSON" },
	{ "cutoff", 0, "TIME", "the cut-off T (default: the model's)" },
	{ "horizon", 0, "DAYS", "churn horizon (default: the model's)" },
	{ "quiet", 'q', NULL, "no progress bar" },
	{ NULL, 0, NULL, NULL }
};

static volatile sig_atomic_t train_stop;

static void
train_on_signal(int sig)
{
	(void)sig;
	train_stop = 1;
}

struct ui {
	int	 bar;
	int	 last_epoch;
	int	 quiet;
};

/* The progress bar; a line per epoch; the stop flag. */
static int
train_progress(void *ctx, const struct train_progress *p)
{
	struct ui *ui = ctx;
	char eta[32];

	if (!ui->bar) {
		/* not a terminal: a plain line per epoch, for logs */
		if (!ui->quiet && strcmp(p->phase, "validated") == 0)
			fprintf(stderr, "epoch %d/%d loss type %.3f item %.3f "
			    "churn %.3f validation %.4f (best %.4f, epoch %d) "
			    "%.0f tok/s\n", p->epoch, p->epochs, p->loss_type,
			    p->loss_item, p->loss_churn, p->val, p->best_val,
			    p->best_epoch, p->tokens_per_s);
		return train_stop;
	}
	if (strcmp(p->phase, "reading") == 0 ||
	    strcmp(p->phase, "evaluating") == 0)
		fprintf(stderr, "\r%s customers %" PRId64 "/%" PRId64 "\033[K",
		    p->phase, p->done, p->total);
	else if (strcmp(p->phase, "training") == 0) {
		snprintf(eta, sizeof(eta), "%.0fm%02.0fs", floor(p->eta / 60),
		    fmod(p->eta, 60));
		fprintf(stderr, "\repoch %d/%d step %" PRId64 "/%" PRId64
		    " loss type %.3f item %.3f churn %.3f  %.0f tok/s  ETA %s"
		    "\033[K", p->epoch, p->epochs, p->step, p->steps,
		    p->loss_type, p->loss_item, p->loss_churn, p->tokens_per_s,
		    eta);
	} else if (strcmp(p->phase, "validated") == 0)
		fprintf(stderr, "\repoch %d/%d loss type %.3f item %.3f churn "
		    "%.3f  validation %.4f (best %.4f, epoch %d)  %.0f tok/s"
		    "\033[K\n", p->epoch, p->epochs, p->loss_type, p->loss_item,
		    p->loss_churn, p->val, p->best_val, p->best_epoch,
		    p->tokens_per_s);
	return train_stop;
}

/* "churn,next-type" -> task bits; 0 on a bad list. */
static unsigned
parse_tasks(const char *s)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} t[] = {
		{ "churn", TRAIN_CHURN }, { "next-type", TRAIN_TYPE },
		{ "next-item", TRAIN_ITEM }
	};
	unsigned bits = 0;
	size_t n, i;

	while (*s != '\0') {
		n = strcspn(s, ",");
		for (i = 0; i < 3; i++)
			if (strlen(t[i].name) == n &&
			    strncmp(s, t[i].name, n) == 0)
				break;
		if (i == 3)
			return 0;
		bits |= t[i].bit;
		s += n + (s[n] == ',');
	}
	return bits;
}

/* Options -> train_opts; 0, or -1 after printing a usage error. */
static int
train_parse(struct optval *ov, struct train_opts *o)
{
	struct err e;
	int64_t v[12];
	double f[4];
	const char *s, *dv;
	struct tparse tp;
	int auto_dropout;

	err_clear(&e);
	train_opts_init(o);
	dv = opt_str(ov, "dropout", NULL);
	auto_dropout = dv == NULL || strcmp(dv, "auto") == 0;
	if (opt_int(ov, "epochs", o->epochs, 1, 100000, &v[0], &e) < 0 ||
	    opt_int(ov, "batch", o->batch, 1, 65536, &v[1], &e) < 0 ||
	    opt_int(ov, "dim", o->C, 1, NN_MAX_C, &v[2], &e) < 0 ||
	    opt_int(ov, "layers", o->L, 1, NN_MAX_L, &v[3], &e) < 0 ||
	    opt_int(ov, "heads", o->H, 1, NN_MAX_C, &v[4], &e) < 0 ||
	    opt_int(ov, "max-len", o->max_len, 1, NN_MAX_LEN, &v[5], &e) < 0 ||
	    opt_int(ov, "horizon", o->horizon_days, 1, 36500, &v[6], &e) < 0 ||
	    opt_int(ov, "threads", o->threads, 1, 256, &v[7], &e) < 0 ||
	    opt_int(ov, "seed", 1, 0, INT64_MAX, &v[8], &e) < 0 ||
	    opt_int(ov, "patience", o->patience, 1, 100000, &v[9], &e) < 0 ||
	    opt_int(ov, "negatives", o->negatives, 0, 1 << 20, &v[10],
	    &e) < 0 ||
	    opt_int(ov, "cache-mb", (int64_t)o->cache_mb, 1, 1 << 22, &v[11],
	    &e) < 0 ||
	    opt_double(ov, "lr", o->lr, 1e-8, 10, &f[0], &e) < 0 ||
	    (!auto_dropout &&
	    opt_double(ov, "dropout", o->dropout, 0, 0.95, &f[1], &e) < 0) ||
	    opt_double(ov, "weight-decay", o->weight_decay, 0, 10, &f[2],
	    &e) < 0 ||
	    opt_double(ov, "adam-eps", o->adam_eps, 0, 1, &f[3], &e) < 0) {
		cmd_error("train: %s", e.msg);
		return -1;
	}
	o->epochs = (int)v[0];
	o->batch = (int)v[1];
	o->C = (int)v[2];
	o->L = (int)v[3];
	o->H = (int)v[4];
	o->max_len = (int)v[5];
	o->horizon_days = (int)v[6];
	o->threads = (int)v[7];
	o->seed = (uint64_t)v[8];
	o->patience = (int)v[9];
	o->negatives = (int)v[10];
	o->cache_mb = (size_t)v[11];
	if (opt_int(ov, "churn-cutoffs", o->churn_cutoffs, 1, 1000, &v[0],
	    &e) < 0 ||
	    opt_int(ov, "bce-negatives", o->bce_negatives, 1, TRAIN_BCE_MAX,
	    &v[1], &e) < 0) {
		cmd_error("train: %s", e.msg);
		return -1;
	}
	o->churn_cutoffs = (int)v[0];
	o->bce_negatives = (int)v[1];
	if ((s = opt_str(ov, "item-loss", NULL)) != NULL) {
		if ((o->item_loss = train_item_loss(s)) < 0) {
			cmd_error("train: --item-loss %s: expected softmax, bce "
			    "or softmax+bce", s);
			return -1;
		}
	} else if (opt_isset(ov, "bce-negatives"))
		o->item_loss = TRAIN_LOSS_BCE;
	if (o->item_loss == TRAIN_LOSS_SOFTMAX &&
	    opt_isset(ov, "bce-negatives")) {
		cmd_error("train: --bce-negatives: the softmax has no binary "
		    "cross entropy; add --item-loss bce or softmax+bce");
		return -1;
	}
	if (o->item_loss != TRAIN_LOSS_SOFTMAX && o->negatives > 0) {
		cmd_error("train: --negatives with --item-loss %s "
		    "(--bce-negatives): the binary cross entropy goes with "
		    "the full softmax only", train_item_losses[o->item_loss]);
		return -1;
	}
	o->lr = (float)f[0];
	if (!auto_dropout)
		o->dropout = (float)f[1];
	o->weight_decay = (float)f[2];
	o->adam_eps = (float)f[3];
	if (o->C % o->H != 0) {
		cmd_error("train: --heads %d does not divide --dim %d", o->H,
		    o->C);
		return -1;
	}
	if (o->threads > o->batch)
		o->threads = o->batch;
	if (opt_isset(ov, "warmup")) {
		if (opt_int(ov, "warmup", 0, 0, INT32_MAX, &v[0], &e) < 0) {
			cmd_error("train: %s", e.msg);
			return -1;
		}
		o->warmup = (int)v[0];
	}
	if ((s = opt_str(ov, "tasks", NULL)) != NULL &&
	    (o->tasks = parse_tasks(s)) == 0) {
		cmd_error("train: --tasks %s: expected a comma-separated list "
		    "of churn, next-type and next-item", s);
		return -1;
	}
	tparse_init(&tp, NULL);
	if ((s = opt_str(ov, "cutoff", NULL)) != NULL &&
	    tparse_parse(&tp, s, strlen(s), &o->cutoff, &e) < 0) {
		cmd_error("train: --cutoff %s: %s", s, e.msg);
		return -1;
	}
	o->all = opt_isset(ov, "all");
	o->name = opt_str(ov, "name", NULL);
	return 0;
}

/* Install the stop handlers; restore them. */
static void
signals(int on)
{
	static struct sigaction old_int, old_term;
	struct sigaction sa;

	if (on) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = train_on_signal;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
	} else {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
}

/* journeyscope train DB */
static int
train_cmd(int argc, char **argv, struct optval *ov)
{
	struct train_opts o;
	struct train_result res;
	struct store *s;
	struct ui ui;
	struct err e;
	int rc;

	(void)argc;
	err_clear(&e);
	if (train_parse(ov, &o) < 0)
		return 2;
	memset(&ui, 0, sizeof(ui));
	ui.bar = !opt_isset(ov, "quiet") && isatty(2);
	ui.quiet = opt_isset(ov, "quiet");
	if ((s = cmd_store_open(argv[0], 0, &e)) == NULL) {
		cmd_error("%s", e.msg);
		return 1;
	}
	signals(1);
	rc = train_run(s, &o, train_progress, &ui, &res, &e);
	signals(0);
	if (ui.bar)
		fputs("\r\033[K", stderr);
	store_close(s);
	if (rc < 0) {
		cmd_error("%s", e.msg);
		return e.code == ERR_USAGE ? 2 : 1;
	}
	printf("model %s: %d epoch%s%s, best epoch %d, %.1f s, %.0f tokens/s "
	    "on %d thread%s\n", res.name, res.epochs_run, res.epochs_run == 1 ?
	    "" : "s", res.stopped ? " (interrupted: the best so far is kept)" :
	    "", res.best_epoch, res.seconds, res.tokens_per_s, o.threads,
	    o.threads == 1 ? "" : "s");
	printf("tasks: %s%s%s%s%s\n", res.tasks & TRAIN_CHURN ? "churn" : "",
	    res.tasks & TRAIN_CHURN && res.tasks & ~TRAIN_CHURN ? ", " : "",
	    res.tasks & TRAIN_TYPE ? "next type" : "", (res.tasks &
	    TRAIN_TYPE) && (res.tasks & TRAIN_ITEM) ? ", " : "",
	    res.tasks & TRAIN_ITEM ? "next item" : "");
	if (!(res.tasks & TRAIN_CHURN) && res.sequence_time)
		printf("no churn task: the store has only an event order, no "
		    "timestamps, so no one can be seen to stop\n");
	if (o.all)
		printf("trained on everything (--all): these figures are not "
		    "held out\n");
	fputs(res.report, stdout);
	train_result_release(&res);
	return 0;
}

/* A member "key": number of a flat JSON text, or def. */
static long long
json_ll(const char *json, const char *key, long long def)
{
	char pat[64];
	const char *p;

	if (json == NULL)
		return def;
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(json, pat)) == NULL)
		return def;
	return strtoll(p + strlen(pat), NULL, 10);
}

/* The tasks a model was trained for, from its settings (0: all). */
static unsigned
model_tasks(const char *extra)
{
	const char *p = extra ? strstr(extra, "\"tasks\":[") : NULL;
	unsigned t = 0;

	if (p == NULL)
		return 0;
	if (strstr(p, "\"churn\"") != NULL)
		t |= TRAIN_CHURN;
	if (strstr(p, "\"next-type\"") != NULL)
		t |= TRAIN_TYPE;
	if (strstr(p, "\"next-item\"") != NULL)
		t |= TRAIN_ITEM;
	return t;
}

/* journeyscope eval DB */
static int
eval_cmd(int argc, char **argv, struct optval *ov)
{
	const char *ct = opt_str(ov, "cutoff", NULL);
	struct store_model mr;
	struct nn_model *m = NULL;
	struct store *s;
	struct tparse tp;
	struct ui ui;
	struct err e;
	int64_t cutoff = 0, hz = 0;
	char *json = NULL, *text = NULL;
	int rc = 1;

	(void)argc;
	err_clear(&e);
	memset(&mr, 0, sizeof(mr));
	tparse_init(&tp, NULL);
	if ((ct != NULL && tparse_parse(&tp, ct, strlen(ct), &cutoff,
	    &e) < 0) || opt_int(ov, "horizon", 0, 1, 36500, &hz, &e) < 0) {
		cmd_error("eval: %s", e.msg);
		return 2;
	}
	memset(&ui, 0, sizeof(ui));
	ui.bar = !opt_isset(ov, "quiet") && isatty(2);
	if ((s = cmd_store_open(argv[0], 0, &e)) == NULL ||
	    (m = explain_load_model(s, opt_str(ov, "model", NULL), &mr,
	    &e)) == NULL)
		goto out;
	if (cutoff == 0 && !opt_isset(ov, "horizon"))
		cutoff = json_ll(m->extra, "cutoff", 0);
	signals(1);
	if (train_eval(s, m, cutoff, (int)hz, model_tasks(m->extra), 1,
	    train_progress, &ui, &json, &text, &e) < 0 ||
	    store_model_set_metrics(s, mr.id, json, &e) < 0) {
		signals(0);
		goto out;
	}
	signals(0);
	if (ui.bar)
		fputs("\r\033[K", stderr);
	if (opt_isset(ov, "json"))
		printf("%s\n", json);
	else {
		printf("model %s%s\n", mr.name, m->extra && strstr(m->extra,
		    "\"all\":true") ? " (trained on everything: not held out)" :
		    "");
		fputs(text, stdout);
	}
	rc = 0;
out:
	if (rc != 0)
		cmd_error("%s", e.msg);
	free(json);
	free(text);
	nn_model_free(m);
	store_model_release(&mr);
	store_close(s);
	return rc;
}

const struct cmd cmd_train = {
	"train", "DB", "train the sequence model on the store; the best "
	    "model is kept in it with its metrics", train_opt_table,
	train_cmd, 1, 1
};

const struct cmd cmd_eval = {
	"eval", "DB", "evaluate a stored model by the protocols of its "
	    "contract, beside simple baselines", eval_opt_table, eval_cmd,
	1, 1
};
