/* run: the record loop every tool shares — inputs, signals, ticks, blank lines, parse failures, watermarks, --state around the operator, exit status. */
#ifndef NDFLOW_RUN_H
#define NDFLOW_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli.h"
#include "input.h"
#include "record.h"
#include "source.h"

struct jobs_piece;

/*
 * A tool is an operator: a context and a table of callbacks.  lib/run
 * reads the input, classifies every line the one way the stream protocol
 * says (ndflow(7)), and calls the operator only for what is its business.
 *
 * What run does, so that no tool does it differently:
 *   - operands: files, "-" for stdin, or -i FILE; gzip by magic bytes;
 *   - a blank line is skipped and counted under "blank_lines";
 *   - a line that is not one JSON object is rejected with one wording:
 *     "invalid JSON at column N: reason", or "expected a JSON object, got
 *     an array" for JSON that is not an object;
 *   - {"@watermark":T} is recognised by its key; a bad time is rejected
 *     as "bad watermark: not an RFC 3339 time or \"+inf\""; a good one
 *     goes to ops->watermark, or is forwarded unchanged when the tool has
 *     no use for one; forwarded watermarks never count in records_out;
 *   - SIGTERM and SIGINT end the input as if it had ended (so the state
 *     is saved); a second signal ends the run at once;
 *   - --state: the lock is taken before -o or anything else is opened,
 *     the state is loaded before the first record, and saved after the
 *     output was flushed and checked — never when it failed, so a replay
 *     of the same input after a failure counts nothing twice;
 *   - the exit status (lib/diag's rules).
 */
struct run_ops {
	/*
	 * begin is called once the input is open, before the first record
	 * (run_input and run_source reach it: for resuming and following).
	 */
	void	(*begin)(void *ctx);
	/*
	 * event handles one record that is not a watermark.  rec is parsed;
	 * ln holds the input text it was made of (the line, or a CSV row) and
	 * its position, for rejects and side outputs.
	 */
	void	(*event)(void *ctx, struct rec *rec, const struct in_line *ln);
	/*
	 * built, when set, is offered each record a format reader built (a
	 * CSV row, a log line: one well-formed JSON object, never a control
	 * record) before it is parsed.  It returns true when it handled the
	 * record from its bytes alone, false to have it parsed and passed to
	 * event as usual (ingest writes the bytes when no check needs them).
	 */
	bool	(*built)(void *ctx, const char *json, size_t len, const struct in_line *ln);
	/*
	 * watermark handles {"@watermark":T}; t is TV_MAX for "+inf".  NULL:
	 * the line is forwarded as it is (unless --no-watermarks).  A tool that
	 * holds records forwards a watermark no later than its earliest held
	 * record (run_put_watermark).
	 */
	void	(*watermark)(void *ctx, int64_t t, struct rec *rec, const struct in_line *ln);
	/* tick is called with the wall clock (µs) every tick_us while the input is idle. */
	void	(*tick)(void *ctx, int64_t now);
	/*
	 * end is called once at the end of input (or after SIGTERM), while the
	 * input is still open (run_input tells where it ended).  keep is
	 * true when --state carries open state to the next run (close nothing
	 * that the next run may still add to); false when everything closes.
	 */
	void	(*end)(void *ctx, bool keep);
	/*
	 * save writes the state's lines after the header: one JSON object a
	 * line.  Returns 0, or -1 with errno.
	 */
	int	(*save)(void *ctx, FILE *f);
	/*
	 * load takes one state line (without its newline; the bytes are
	 * borrowed until the next line).  Returns 0, or -1 with a reason in
	 * why (run adds "state file F:LINE: ").
	 */
	int	(*load)(void *ctx, const char *line, size_t len, char *why, size_t whysz);
	/*
	 * header adds the tool's own members to a state header being written
	 * (the watermark, counters); restore reads them back before the first
	 * line is loaded, returning -1 with a reason on a bad value.  Either
	 * may be NULL.
	 */
	void	(*header)(void *ctx, json_t *hdr);
	int	(*restore)(void *ctx, json_t *hdr, char *why, size_t whysz);
	/* free releases the operator at the end, so the sanitizers see no leak. */
	void	(*free)(void *ctx);
	/*
	 * after gets the exit status once every output is closed and checked,
	 * and returns the status to exit with (ingest commits its offset file
	 * only after a run that succeeded).
	 */
	int	(*after)(void *ctx, int status);
};

struct run_spec {
	const char	*tool;		/* the state header's "tool" */
	struct cli	*cli;		/* the common options, parsed; run calls cli_finish */
	char *const	*paths;		/* operands or -i files; npaths == 0 reads stdin */
	int		 npaths;
	const char	*state_path;	/* --state FILE, or NULL */
	/*
	 * options: the options a saved state depends on, as a JSON object of
	 * option → value text ({"--tumbling":"1m"}); stolen.  A state saved
	 * under other values is refused with a message naming them.
	 */
	json_t		*options;
	enum fmt_kind	 format;	/* FMT_NDJSON (0), or what ingest reads */
	const struct fmt_opts *fopts;	/* NULL for NDJSON */
	int64_t		 tick_us;	/* ops->tick period while idle; 0 = none */
	int64_t		 checkpoint_us;	/* --checkpoint-every; 0 = save only at the end */
	/*
	 * piece: a -j worker's byte range of paths (lib/jobs): the first
	 * path is read from piece->start (its lines numbered from
	 * piece->line + 1), the last up to piece->end.  NULL: all of them.
	 */
	const struct jobs_piece *piece;
};

/*
 * run_main runs the whole tool: lock, open the output, load the state,
 * read every input line, end, flush and check the outputs, save, free.
 * Returns the exit status for main() to return.  Exits 2 or 3 with a
 * message on a state that is locked, unreadable or of other options.
 */
int	run_main(const struct run_spec *, const struct run_ops *, void *ctx);

/* run_input and run_source give the input being read (NULL outside run_main). */
struct input	*run_input(void);
struct source	*run_source(void);

/*
 * run_put_watermark writes {"@watermark":T} to stdout unless
 * --no-watermarks; it does not count in records_out.
 */
void	run_put_watermark(int64_t t);

/*
 * run_checkpoint flushes and checks the outputs, then saves the state
 * (when there is one).  Returns 0, or -1 when an output or the save
 * failed (reported, and the run will exit 3).
 */
int	run_checkpoint(void);

#endif
