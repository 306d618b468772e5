/* notify: running a notifier per notice without a shell: word-split command, notice on stdin, timeout, retries, bounded concurrency, failed-notice file. */
#ifndef NDFLOW_NOTIFY_H
#define NDFLOW_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * nt_split splits cmd into words the way a POSIX shell would split it:
 * blanks separate words; '...' is literal; in "..." a backslash escapes
 * only $ ` " \ and newline; outside quotes a backslash escapes the next
 * character ("\<newline>" disappears); '' and "" make an empty word.
 * Nothing is expanded and no shell ever runs.  Where a shell would do
 * something this does not (an unquoted | & ; < > ( ) $ ` or a word
 * starting with ~ or #, a $ or ` inside "..."), the command is refused
 * rather than run differently.
 * Returns the number of words and stores a NULL-terminated array in
 * *argv (free with nt_argv_free), or -1 with a reason such as
 *   empty command
 *   unterminated single quote
 *   '|' would need a shell: quote it, or put the pipeline in a script
 */
int	nt_split(const char *cmd, char ***argv, char *why, size_t whylen);
void	nt_argv_free(char **argv);

/* What nt_report_fn is told about. */
enum nt_event {
	NT_RETRY,	/* an attempt failed and will be retried */
	NT_FAILED,	/* the last attempt failed; the notice went to the failed-notice file */
	NT_LOST		/* the last attempt failed and the notice could not be kept (no file, or it could not be written): exit 1 */
};

/*
 * nt_report_fn receives one event with an English reason (borrowed,
 * valid during the call), for example
 *   attempt 1 of 4: exited with status 1; retrying in 0.1s
 *   attempt 4 of 4: timed out after 10s; kept in failed.ndjson
 *   cannot run 'nope': No such file or directory; kept in failed.ndjson
 *   attempt 1 of 1: exited with status 2; not kept: no failed-notice file
 * The caller prints it ("alert: --exec: REASON").  It must not call back
 * into the notifier.
 */
typedef void	nt_report_fn(void *ctx, enum nt_event, const char *reason);

struct nt_opts {
	const char	*cmd;		/* the command line to split */
	int64_t		 timeout_us;	/* per attempt; default 10 s */
	unsigned	 retries;	/* attempts after the first; default 3 */
	int64_t		 backoff_us;	/* wait before the first retry, doubled for each next; default 200 ms */
	unsigned	 max_inflight;	/* notifiers running at once; default 4 */
	size_t		 max_queue;	/* notices waiting to start before nt_send waits; default 1000 */
	const char	*failed_path;	/* where undeliverable notices are appended; NULL: none */
	int		 out_fd;	/* the notifier's stdout: default 2 (stdout is the tool's data); -1 for /dev/null */
	nt_report_fn	*report;	/* may be NULL */
	void		*ctx;
};

/* nt_opts_init fills the defaults (cmd NULL). */
void	nt_opts_init(struct nt_opts *);

struct nt;

/*
 * nt_new checks and splits opts->cmd (the strings in opts are borrowed
 * and must outlive the notifier).  Returns the notifier, or NULL with
 * the reason of nt_split.  The program is looked up in PATH at each run,
 * so a missing program is reported per notice, not here.
 */
struct nt	*nt_new(const struct nt_opts *, char *why, size_t whylen);

/*
 * nt_send copies one notice (a newline is added if it has none) and
 * starts a notifier for it when fewer than max_inflight run; otherwise
 * it waits in a queue.  It returns at once unless max_queue notices are
 * already waiting: then it waits until one starts, which takes at most
 * about one timeout.  A notifier that closes its stdin early, or exits
 * before reading, never raises SIGPIPE here (its exit status decides).
 * Returns 0.
 */
int	nt_send(struct nt *, const char *notice, size_t len);

/*
 * nt_poll makes progress: feeds stdins, reaps notifiers that ended,
 * kills those past their timeout (the notifier's whole process group),
 * starts retries whose backoff has passed and queued notices.  Waits at
 * most timeout_ms for something to happen (0: never waits).  Returns the
 * number of notices not finished yet (running, waiting, or in backoff).
 */
size_t	nt_poll(struct nt *, int timeout_ms);

/* nt_drain waits until every notice is delivered or given up on (bounded by the attempts' timeouts and backoffs). */
void	nt_drain(struct nt *);

/* nt_pending returns the number of notices not finished yet. */
size_t	nt_pending(const struct nt *);

struct nt_stats {
	uint64_t	notices;	/* given to nt_send */
	uint64_t	delivered;	/* a notifier exited 0 */
	uint64_t	attempts;	/* notifiers started (or tried) */
	uint64_t	retries;
	uint64_t	timeouts;	/* attempts killed at their timeout */
	uint64_t	failed;		/* kept in the failed-notice file */
	uint64_t	lost;		/* neither delivered nor kept: the tool exits 1 */
};

const struct nt_stats	*nt_stats(const struct nt *);

/*
 * nt_free ends the notifier: notifiers still running are killed and
 * every notice not delivered is handled as a final failure (kept in the
 * failed-notice file, or lost and reported).  Call nt_drain first to
 * give them their chance.  NULL is allowed.
 */
void	nt_free(struct nt *);

#endif
