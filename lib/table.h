/* table: rows of named cells holding JSON values, sorted, cut to the first N and written in batches as NDJSON, JSON, CSV, TSV, aligned text, Markdown or HTML. */
#ifndef NDFLOW_TABLE_H
#define NDFLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A table is filled row by row: tb_row() starts a row, tb_cell() and its
 * typed forms append cells to it by column name.  A cell holds one JSON
 * value as its serialised text, so a number keeps exactly the digits it
 * was given.  Columns are numbered in the order their names are first
 * seen (or declared with tb_column) and keep that order for the table's
 * whole life.
 *
 * tb_flush() writes the rows added since the last flush as one batch:
 * sorted by the sort keys, cut to the first N (tb_top), then written in
 * the table's format; the rows are then dropped and their memory reused.
 * A stream writes a batch per closed window; a report writes one batch.
 * tb_end() writes the last batch and closes the document.
 *
 * What each format does with batches, late columns and odd characters:
 *
 *   ndjson    one object per row, keys in column order; a row's absent
 *             cells are absent keys.  A late column is just another key.
 *   json      one array document of those objects ("[]" when empty).
 *   csv       RFC 4180 quoting (a field with , " CR LF or a leading or
 *             trailing space is quoted, " doubled); lines end in LF.
 *             null and absent cells are empty fields, the empty string
 *             is "" (as PostgreSQL's COPY CSV tells them apart).
 *   tsv       \ tab LF CR in a field are written \\ \t \n \r; null and
 *             absent cells are empty fields.
 *   table     aligned text for a terminal: columns two spaces apart,
 *             numbers (and a column whose cells are all numbers, with its
 *             name) right-aligned, no trailing spaces.
 *   markdown  a GitHub pipe table; numeric columns aligned right (---:).
 *   html      a <table> fragment with <thead> and <tbody> for embedding
 *             in a page; numbers in <td class="num">.
 *
 * The header is written once, with the first batch, and names every
 * column seen so far (declared, or in any row added, even one that
 * tb_top then cut).  Rules across batches:
 *
 *   - Widths (table): fixed from the first batch (the widest of the name
 *     and the cells), and widened, from the batch that needs it on, when
 *     a later cell is wider; the rows of one batch always line up with
 *     each other.  Widths never shrink, so a stream settles into steady
 *     columns after a few batches and the header, written once, lines up
 *     with every row until a column first widens.  (The header is not
 *     written again for a wider column: that would bring back a header
 *     per batch on a stream whose values grow.)  A column's alignment is
 *     decided by the batch that first prints its name and then kept.
 *   - A late column (one first seen after the header was written) is not
 *     dropped: csv, tsv, table and markdown start a new header block, an
 *     empty line then a header with every column in the same order, the
 *     new ones last (Miller's "csvlite" schema change); html starts a new
 *     <tbody> whose first row is a header row of <th>.  Rows before the
 *     change are not rewritten.
 *   - Text shown in table, markdown and html output never carries control
 *     characters: TAB, LF and CR appear as \t \n \r, other C0 controls,
 *     DEL and C1 controls as \u001b-style escapes, and so do the Unicode
 *     line and paragraph separators and bidirectional overrides (U+2028,
 *     U+2029, U+202A-U+202E, U+2066-U+2069); bytes that are not UTF-8
 *     appear as \xNN.  These escapes are for reading, not for parsing
 *     back: a backslash in the text itself is shown as it is in table
 *     output (escaped for markdown and html only where those languages
 *     need it).  Markdown escapes \ | * ` < > [ ] ~ & and an _ that could
 *     start or end emphasis; html escapes & < > " '.
 *   - Widths on a terminal (table) count East Asian wide and fullwidth
 *     characters as two columns and combining marks, zero-width and
 *     format characters as none (tb_text_width).
 *
 * Sorting: by each key in turn, ascending or descending; numbers by value
 * (integers within int64 exactly), strings by their bytes, numbers before
 * strings before booleans (false first) before arrays before objects (by
 * their JSON text); null and absent cells last in either direction.  The
 * sort is stable: rows that tie keep the order they were added in.
 *
 * Memory: the cells of a batch live in buffers owned by the table that
 * grow to the largest batch and are reused; adding a cell allocates only
 * when a buffer must grow.  An ndjson or json table without sort keys or
 * top needs no batch: each row is written as soon as the next one starts
 * (into the table's output buffer, handed to out every 64 KiB and at each
 * tb_flush), so its memory stays flat however large a batch grows.
 * Allocation failure aborts (as lib/buf does).
 */

struct tb;
struct tb_format;

/*
 * tb_format looks an output format up by name ("ndjson", "json", "csv",
 * "tsv", "table", "markdown", "html").  Returns the format, or NULL when
 * the name is unknown.  The formats are static: nothing to free.
 */
const struct tb_format	*tb_format(const char *name);
/* tb_format_name returns a format's name. */
const char		*tb_format_name(const struct tb_format *);
/* tb_format_names lists every format for --help and messages: "ndjson, json, csv, ...". */
const char		*tb_format_names(void);

/*
 * tb_new makes an empty table written in format fmt to out.  out is
 * borrowed: the caller keeps it open until tb_end() or tb_free() and
 * closes it.  Nothing reaches out before the first tb_flush() or tb_end(),
 * except from a streaming ndjson or json table past 64 KiB (see Memory).
 * Aborts on allocation failure only.
 */
struct tb	*tb_new(const struct tb_format *fmt, FILE *out);
/* tb_free frees the table without writing anything more; rows not yet handed to out are lost.  NULL is allowed. */
void		 tb_free(struct tb *);

/*
 * tb_column declares a column (when the name is new) so that it has its
 * place in the column order and in the header even before, or without,
 * any cell.  Returns the column's 0-based position.
 */
size_t	tb_column(struct tb *, const char *name);
/* tb_ncolumns returns the number of columns known so far; tb_column_name the name of column i < tb_ncolumns (owned by the table). */
size_t		 tb_ncolumns(const struct tb *);
const char	*tb_column_name(const struct tb *, size_t i);

/*
 * tb_sort adds a sort key after the ones already given: the column by
 * name (it need not exist yet; rows without it sort as null), descending
 * when desc.  The name is copied.
 */
void	tb_sort(struct tb *, const char *column, bool desc);
/*
 * tb_sort_spec adds the sort keys of a list "COL[:asc|:desc],...", where
 * "-COL" also means descending and "+COL" ascending (aggregate's older
 * spelling).  Returns 0, or -1 with errno EINVAL and *why (when why is
 * not NULL) pointing to a static English reason ("empty column name",
 * "both a sign and a direction" for "-COL:asc") when the list is malformed; the table's keys are
 * then unchanged.
 */
int	tb_sort_spec(struct tb *, const char *spec, const char **why);
/* tb_nsort returns the number of sort keys; tb_sort_key the column name of key i (owned by the table) and, when desc is not NULL, its direction. */
size_t		 tb_nsort(const struct tb *);
const char	*tb_sort_key(const struct tb *, size_t i, bool *desc);

/* tb_top keeps only the first n rows of each batch, after sorting; 0 (the default) keeps them all. */
void	tb_top(struct tb *, uint64_t n);

/*
 * tb_round writes the reals of a column (a number whose text has a
 * fraction or an exponent; an integer's text is kept) rounded to digits
 * after the point, by tb_round_text.  Sorting still compares the exact
 * values.  The column need not exist yet; the setting applies to cells
 * added from now on.  The name is copied.
 */
void	tb_round(struct tb *, const char *column, unsigned digits);

/*
 * tb_round_text appends the JSON number s[0..n) rounded to digits after
 * the point, in fixed notation with exactly that many digits ("2.50",
 * "3" for 0 digits, "0.00" for a result of zero, never "-0.00").  The
 * rounding is done on the decimal digits of the text, half away from
 * zero: "2.675" gives "2.68" and "0.125" gives "0.13" (printf's %.2f and
 * python's round() work on the nearest double and round those to 2.67
 * and 0.12).  A number past 10^1000 or below 10^-1000 is appended as it
 * is.  Returns 0, or -1 with errno EINVAL (nothing appended) when s is
 * not a JSON number or digits is over 1000.
 */
struct buf;
int	tb_round_text(struct buf *out, const char *s, size_t n, unsigned digits);

/*
 * tb_row starts a new row in the pending batch.  A cell added when no row
 * is open (at the start, or after a flush) starts one itself.
 */
void	tb_row(struct tb *);

/*
 * tb_cell appends a cell to the current row: the column by name and the
 * value as the text of one compact JSON value (a number, a string with
 * its quotes and escapes, true, false, null, an array or an object, no
 * whitespace around it), copied.  The text is checked only as far as
 * the table needs it: a number must be exactly one JSON number, a string
 * must be quoted, an array or object bracketed; the caller vouches for
 * the rest (it is written back unchanged by ndjson and json).  A second
 * cell of the same column in one row replaces the first.
 * Returns 0, or -1 with errno EINVAL when the text is not such a value;
 * the table is then unchanged.
 */
int	tb_cell(struct tb *, const char *column, const char *json, size_t len);
/* tb_cell_str appends a string cell from its raw bytes (escaped as JSON here; bytes that are not UTF-8 become U+FFFD). */
void	tb_cell_str(struct tb *, const char *column, const char *s, size_t len);
/* tb_cell_int appends an integer cell. */
void	tb_cell_int(struct tb *, const char *column, int64_t);
/* tb_cell_real appends a number cell in the shortest form that reads back as d (NaN and infinities become null). */
void	tb_cell_real(struct tb *, const char *column, double d);
/* tb_cell_null appends a null cell. */
void	tb_cell_null(struct tb *, const char *column);

/* tb_pending returns the number of rows added and not yet written (see Memory above for ndjson and json). */
size_t	tb_pending(const struct tb *);

/*
 * tb_flush writes the pending rows as one batch (sorted, cut, and headed
 * when it is the first) and drops them.  An empty batch writes nothing.
 * The whole batch is handed to out with fwrite before tb_flush returns,
 * so the caller may write its own lines between batches (aggregate's
 * watermarks).  out is not flushed: its owner flushes it (a stream when
 * its input goes idle) and makes the final fflush/fclose check, which
 * reports what stdio still held, as for rec_emit.
 * Returns 0, or -1 with errno set when a write failed (ENOSPC, EPIPE,
 * ...); the error also stays in ferror(out).  A write error is sticky:
 * every later tb_flush and tb_end returns -1 with the same errno and
 * writes nothing.  The pending rows are dropped either way.
 */
int	tb_flush(struct tb *);

/*
 * tb_end flushes the pending rows and writes what closes the document
 * (the header alone when no row was ever written and columns are known,
 * "]" for json, "</table>" for html).  Returns 0, or -1 with errno set
 * when a write of the table failed (see tb_flush; out is not flushed, so
 * the caller's final fflush/fclose check still applies).  After tb_end
 * only tb_free is allowed; a second tb_end returns the first one's result
 * and writes nothing.
 */
int	tb_end(struct tb *);

/* tb_written returns the number of rows written so far (after --top cuts). */
uint64_t	tb_written(const struct tb *);

/*
 * tb_text_width returns the number of terminal columns UTF-8 text takes:
 * East Asian wide and fullwidth characters count 2, combining marks,
 * zero-width and format characters 0, everything else 1 (ambiguous-width
 * characters are narrow, as outside CJK locales; a byte that is not
 * UTF-8 counts 1).  Control characters count 0: table output never shows
 * them raw.
 */
size_t	tb_text_width(const char *s, size_t len);

#endif
