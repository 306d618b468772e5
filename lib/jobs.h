/* jobs: reading regular files with N worker processes over byte ranges cut at line starts (aggregate -j, batch-report -j). */
#ifndef NDFLOW_JOBS_H
#define NDFLOW_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#define JOBS_MAX	64
/*
 * A worker exits with JOBS_FALLBACK when its input cannot be split after
 * all (aggregate: a watermark, which closes windows in the input's order):
 * the caller then reads the whole input in one process.
 */
#define JOBS_FALLBACK	99

/*
 * A piece of the operands: paths[first] from byte start (a line start;
 * line lines come before it, counted by the worker) to paths[last] up to
 * byte end (a line start or the file's size); the operands between are
 * read whole.
 */
struct jobs_piece {
	int		 first, last;
	uint64_t	 start, end;
	uint64_t	 line;
};

struct jobs {
	char *const		*paths;			/* the operands split */
	int			 n;			/* pieces, one worker each */
	struct jobs_piece	 piece[JOBS_MAX];
	char			*out[JOBS_MAX];		/* each worker's output: a temporary file */
	char			*err[JOBS_MAX];		/* with capture: its standard error */
	char			*dead[JOBS_MAX];	/* with capture: its rejected lines, as dead-letter records */
	bool			 capture;		/* see jobs_run */
	int			 status;		/* the worst worker's exit status */
	int			 wstatus[JOBS_MAX];	/* each worker's */
	bool			 ioerr;			/* a worker exited 3 */
};

/*
 * jobs_split cuts the operands into at most n pieces of about the same
 * size, each cut at the start of the line that holds the byte where it
 * falls; empty pieces are left out.  Returns the number of pieces, or 0
 * when the input cannot be split: no operand (standard input), "-", a
 * file that is not regular (a FIFO, a device) or gzip-compressed, all of
 * them empty, or output (-o FILE, may be NULL) naming one of them.
 * Never fails otherwise.
 */
int	jobs_split(struct jobs *, char *const *paths, int npaths, int n, const char *output);

/*
 * jobs_run starts one worker process per piece and waits for them all.
 * Each child computes its piece's line, then exits with work(j, i, ctx)'s
 * status.  out[i] is always made (empty, in $TMPDIR or /tmp) for the
 * worker to write to; with j->capture the worker's standard output goes
 * to out[i], its standard error to err[i], and dead[i] names an empty
 * file for the worker's --dead-letter.  SIGTERM and SIGINT received while
 * waiting are passed on to the workers (which end their input there).
 * Returns 0 with j->status, or -1 with errno when a temporary file or a
 * process could not be made (nothing is left behind).
 */
int	jobs_run(struct jobs *, int (*work)(struct jobs *, int i, void *ctx), void *ctx);

/*
 * jobs_account, in the run that merges the workers' outputs (with
 * capture), accounts for what the workers saw, in input order: it
 * copies each worker's messages to standard error, passes each rejected
 * line to diag_reject (printed, counted or kept as this run's options
 * say), and adds the integer counters of the worker's --stats line to
 * this run's, except records_out, rejected and the names in skip
 * (NULL-terminated, may be NULL); the workers' records_in replaces this
 * run's (which counted their outputs).  Call it once the workers'
 * outputs are read.  A worker that exited 3 is noted as an I/O error;
 * one that exited 2 ends the accounting (one process would have stopped
 * there).
 */
void	jobs_account(struct jobs *, const char *const *skip);

/* jobs_free removes the temporary files and frees the names. */
void	jobs_free(struct jobs *);

#endif
