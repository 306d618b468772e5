/* table: rows of named cells holding JSON values, sorted, cut to the first N and written in batches as NDJSON, JSON, CSV, TSV, aligned text, Markdown or HTML. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "table.h"

/* Cell types, in the order sort puts them; null (and absent) last. */
enum ctype { C_NUMBER, C_STRING, C_BOOL, C_ARRAY, C_OBJECT, C_NULL };

/* A cell: offsets into the table's byte buffer, so the buffer may move when it grows. */
struct cell {
	size_t		 off, len;	/* the JSON text */
	size_t		 toff, tlen;	/* the text shown: a string's unescaped bytes, null's "", else the JSON text */
	double		 d;		/* C_NUMBER: its value */
	int64_t		 i;		/* C_NUMBER with isint: its exact value; C_BOOL: 0 or 1 */
	size_t		 col;
	enum ctype	 type;
	bool		 isint;
};

/* A row: its cells are cells[cell0 .. cell0 + ncells), in the order they were added. */
struct row {
	size_t	 cell0, ncells;
};

struct column {
	char	*name;
	char	*jname;		/* the name as a JSON string */
	size_t	 jlen;
	size_t	 width;		/* table: terminal columns, once the name has been printed */
	bool	 numeric;	/* right-aligned: decided when the name is first printed */
	bool	 hasnum, hasother;	/* what the batch that first prints the name holds */
	int	 digits;	/* tb_round: digits after the point for its reals, or -1 */
};

struct sortkey {
	char	*name;
	bool	 desc;
};

/*
 * An output format.  begin runs before each non-empty batch's rows (the
 * rows in output order are t->order[0 .. t->nout)) and writes the header
 * or a new header block when one is due; row writes the row whose cells
 * t->map indexes by column; end runs once, after the last batch.  All
 * three append to t->obuf; the caller moves it to the FILE.  A format
 * that streams has a begin that depends on no row, so its rows can go
 * out one at a time when nothing reorders or cuts them.
 */
struct tb_format {
	const char	*name;
	void		(*begin)(struct tb *);
	void		(*row)(struct tb *);
	void		(*end)(struct tb *);
	bool		 streams;	/* without sort keys or top, a row needs nothing from the rows after it */
};

struct tb {
	const struct tb_format	*fmt;
	FILE		*out;
	struct column	*cols;
	size_t		 ncols, capcols;
	size_t		 hint;		/* the column the next cell probably names */
	size_t		*map;		/* column -> index of the current row's cell, or NONE */
	struct buf	 bytes;		/* the pending rows' cell texts */
	struct cell	*cells;
	size_t		 ncells, capcells;
	struct row	*rows;
	size_t		 nrows, caprows;
	bool		 inrow;
	struct sortkey	*keys;
	size_t		 nkeys;
	uint64_t	 top;
	struct sortkey	*rounds;	/* tb_round: column names, digits in .desc's place */
	int		*rdigits;
	size_t		 nrounds;
	struct buf	 rbuf;		/* a rounded cell's text */
	size_t		*order, *tmp;	/* the batch in output order; merge-sort scratch */
	size_t		*keycell;	/* nkeys x nrows: the cell each key compares, or NONE */
	size_t		 caporder, capkeycell;
	size_t		 nout;		/* rows of this batch to write */
	size_t		 nrow;		/* rows of this batch written so far */
	struct buf	 obuf;		/* output not yet handed to out */
	struct buf	 cbuf;		/* one cell's text as shown */
	struct buf	 jbuf;		/* the JSON text the typed cell setters build */
	bool		 opened;	/* json's "[" or html's "<table>" is written */
	bool		 headed;	/* a header has been written */
	size_t		 hdrcols;	/* the columns it names */
	uint64_t	 written;
	int		 err;		/* errno of the first failed write */
	bool		 ended;
	int		 endret;
};

#define NONE		SIZE_MAX
#define SPILL_AT	65536

static void	write_rows(struct tb *);
static void	compact(struct tb *);
static void	sort_batch(struct tb *);

#define COMPACT_TOP	(1u << 20)	/* a larger top is kept whole */
#define COMPACT_SLACK	4096

/* ---- Terminal widths ---- */

struct cprange {
	uint32_t	lo, hi;
};

/*
 * The two tables below were derived for this file from the Unicode
 * Character Database (version 14.0): zero_width holds the nonspacing and
 * enclosing marks (Mn, Me), the format characters (Cf) except the soft
 * hyphen and the prepended concatenation marks, which print a glyph, and
 * the Hangul medial vowels and final consonants (U+1160-U+11FF,
 * U+D7B0-U+D7FF), which join the preceding syllable; double_width holds
 * the East Asian Wide (W) and Fullwidth (F) characters, with the CJK
 * ideograph blocks and planes 2 and 3 taken whole.  Ranges are merged
 * across unassigned code points.  Both are sorted for bsearch.
 */
static const struct cprange zero_width[] = {
	{ 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD }, { 0x05BF, 0x05BF },
	{ 0x05C1, 0x05C2 }, { 0x05C4, 0x05C5 }, { 0x05C7, 0x05C7 }, { 0x0610, 0x061A },
	{ 0x061C, 0x061C }, { 0x064B, 0x065F }, { 0x0670, 0x0670 }, { 0x06D6, 0x06DC },
	{ 0x06DF, 0x06E4 }, { 0x06E7, 0x06E8 }, { 0x06EA, 0x06ED }, { 0x0711, 0x0711 },
	{ 0x0730, 0x074A }, { 0x07A6, 0x07B0 }, { 0x07EB, 0x07F3 }, { 0x07FD, 0x07FD },
	{ 0x0816, 0x0819 }, { 0x081B, 0x0823 }, { 0x0825, 0x0827 }, { 0x0829, 0x082D },
	{ 0x0859, 0x085B }, { 0x0898, 0x089F }, { 0x08CA, 0x08E1 }, { 0x08E3, 0x0902 },
	{ 0x093A, 0x093A }, { 0x093C, 0x093C }, { 0x0941, 0x0948 }, { 0x094D, 0x094D },
	{ 0x0951, 0x0957 }, { 0x0962, 0x0963 }, { 0x0981, 0x0981 }, { 0x09BC, 0x09BC },
	{ 0x09C1, 0x09C4 }, { 0x09CD, 0x09CD }, { 0x09E2, 0x09E3 }, { 0x09FE, 0x0A02 },
	{ 0x0A3C, 0x0A3C }, { 0x0A41, 0x0A51 }, { 0x0A70, 0x0A71 }, { 0x0A75, 0x0A75 },
	{ 0x0A81, 0x0A82 }, { 0x0ABC, 0x0ABC }, { 0x0AC1, 0x0AC8 }, { 0x0ACD, 0x0ACD },
	{ 0x0AE2, 0x0AE3 }, { 0x0AFA, 0x0B01 }, { 0x0B3C, 0x0B3C }, { 0x0B3F, 0x0B3F },
	{ 0x0B41, 0x0B44 }, { 0x0B4D, 0x0B56 }, { 0x0B62, 0x0B63 }, { 0x0B82, 0x0B82 },
	{ 0x0BC0, 0x0BC0 }, { 0x0BCD, 0x0BCD }, { 0x0C00, 0x0C00 }, { 0x0C04, 0x0C04 },
	{ 0x0C3C, 0x0C3C }, { 0x0C3E, 0x0C40 }, { 0x0C46, 0x0C56 }, { 0x0C62, 0x0C63 },
	{ 0x0C81, 0x0C81 }, { 0x0CBC, 0x0CBC }, { 0x0CBF, 0x0CBF }, { 0x0CC6, 0x0CC6 },
	{ 0x0CCC, 0x0CCD }, { 0x0CE2, 0x0CE3 }, { 0x0D00, 0x0D01 }, { 0x0D3B, 0x0D3C },
	{ 0x0D41, 0x0D44 }, { 0x0D4D, 0x0D4D }, { 0x0D62, 0x0D63 }, { 0x0D81, 0x0D81 },
	{ 0x0DCA, 0x0DCA }, { 0x0DD2, 0x0DD6 }, { 0x0E31, 0x0E31 }, { 0x0E34, 0x0E3A },
	{ 0x0E47, 0x0E4E }, { 0x0EB1, 0x0EB1 }, { 0x0EB4, 0x0EBC }, { 0x0EC8, 0x0ECD },
	{ 0x0F18, 0x0F19 }, { 0x0F35, 0x0F35 }, { 0x0F37, 0x0F37 }, { 0x0F39, 0x0F39 },
	{ 0x0F71, 0x0F7E }, { 0x0F80, 0x0F84 }, { 0x0F86, 0x0F87 }, { 0x0F8D, 0x0FBC },
	{ 0x0FC6, 0x0FC6 }, { 0x102D, 0x1030 }, { 0x1032, 0x1037 }, { 0x1039, 0x103A },
	{ 0x103D, 0x103E }, { 0x1058, 0x1059 }, { 0x105E, 0x1060 }, { 0x1071, 0x1074 },
	{ 0x1082, 0x1082 }, { 0x1085, 0x1086 }, { 0x108D, 0x108D }, { 0x109D, 0x109D },
	{ 0x1160, 0x11FF }, { 0x135D, 0x135F }, { 0x1712, 0x1714 }, { 0x1732, 0x1733 },
	{ 0x1752, 0x1753 }, { 0x1772, 0x1773 }, { 0x17B4, 0x17B5 }, { 0x17B7, 0x17BD },
	{ 0x17C6, 0x17C6 }, { 0x17C9, 0x17D3 }, { 0x17DD, 0x17DD }, { 0x180B, 0x180F },
	{ 0x1885, 0x1886 }, { 0x18A9, 0x18A9 }, { 0x1920, 0x1922 }, { 0x1927, 0x1928 },
	{ 0x1932, 0x1932 }, { 0x1939, 0x193B }, { 0x1A17, 0x1A18 }, { 0x1A1B, 0x1A1B },
	{ 0x1A56, 0x1A56 }, { 0x1A58, 0x1A60 }, { 0x1A62, 0x1A62 }, { 0x1A65, 0x1A6C },
	{ 0x1A73, 0x1A7F }, { 0x1AB0, 0x1B03 }, { 0x1B34, 0x1B34 }, { 0x1B36, 0x1B3A },
	{ 0x1B3C, 0x1B3C }, { 0x1B42, 0x1B42 }, { 0x1B6B, 0x1B73 }, { 0x1B80, 0x1B81 },
	{ 0x1BA2, 0x1BA5 }, { 0x1BA8, 0x1BA9 }, { 0x1BAB, 0x1BAD }, { 0x1BE6, 0x1BE6 },
	{ 0x1BE8, 0x1BE9 }, { 0x1BED, 0x1BED }, { 0x1BEF, 0x1BF1 }, { 0x1C2C, 0x1C33 },
	{ 0x1C36, 0x1C37 }, { 0x1CD0, 0x1CD2 }, { 0x1CD4, 0x1CE0 }, { 0x1CE2, 0x1CE8 },
	{ 0x1CED, 0x1CED }, { 0x1CF4, 0x1CF4 }, { 0x1CF8, 0x1CF9 }, { 0x1DC0, 0x1DFF },
	{ 0x200B, 0x200F }, { 0x202A, 0x202E }, { 0x2060, 0x206F }, { 0x20D0, 0x20F0 },
	{ 0x2CEF, 0x2CF1 }, { 0x2D7F, 0x2D7F }, { 0x2DE0, 0x2DFF }, { 0x302A, 0x302D },
	{ 0x3099, 0x309A }, { 0xA66F, 0xA672 }, { 0xA674, 0xA67D }, { 0xA69E, 0xA69F },
	{ 0xA6F0, 0xA6F1 }, { 0xA802, 0xA802 }, { 0xA806, 0xA806 }, { 0xA80B, 0xA80B },
	{ 0xA825, 0xA826 }, { 0xA82C, 0xA82C }, { 0xA8C4, 0xA8C5 }, { 0xA8E0, 0xA8F1 },
	{ 0xA8FF, 0xA8FF }, { 0xA926, 0xA92D }, { 0xA947, 0xA951 }, { 0xA980, 0xA982 },
	{ 0xA9B3, 0xA9B3 }, { 0xA9B6, 0xA9B9 }, { 0xA9BC, 0xA9BD }, { 0xA9E5, 0xA9E5 },
	{ 0xAA29, 0xAA2E }, { 0xAA31, 0xAA32 }, { 0xAA35, 0xAA36 }, { 0xAA43, 0xAA43 },
	{ 0xAA4C, 0xAA4C }, { 0xAA7C, 0xAA7C }, { 0xAAB0, 0xAAB0 }, { 0xAAB2, 0xAAB4 },
	{ 0xAAB7, 0xAAB8 }, { 0xAABE, 0xAABF }, { 0xAAC1, 0xAAC1 }, { 0xAAEC, 0xAAED },
	{ 0xAAF6, 0xAAF6 }, { 0xABE5, 0xABE5 }, { 0xABE8, 0xABE8 }, { 0xABED, 0xABED },
	{ 0xD7B0, 0xD7FF }, { 0xFB1E, 0xFB1E }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F },
	{ 0xFEFF, 0xFEFF }, { 0xFFF9, 0xFFFB }, { 0x101FD, 0x101FD }, { 0x102E0, 0x102E0 },
	{ 0x10376, 0x1037A }, { 0x10A01, 0x10A0F }, { 0x10A38, 0x10A3F }, { 0x10AE5, 0x10AE6 },
	{ 0x10D24, 0x10D27 }, { 0x10EAB, 0x10EAC }, { 0x10F46, 0x10F50 }, { 0x10F82, 0x10F85 },
	{ 0x11001, 0x11001 }, { 0x11038, 0x11046 }, { 0x11070, 0x11070 }, { 0x11073, 0x11074 },
	{ 0x1107F, 0x11081 }, { 0x110B3, 0x110B6 }, { 0x110B9, 0x110BA }, { 0x110C2, 0x110C2 },
	{ 0x11100, 0x11102 }, { 0x11127, 0x1112B }, { 0x1112D, 0x11134 }, { 0x11173, 0x11173 },
	{ 0x11180, 0x11181 }, { 0x111B6, 0x111BE }, { 0x111C9, 0x111CC }, { 0x111CF, 0x111CF },
	{ 0x1122F, 0x11231 }, { 0x11234, 0x11234 }, { 0x11236, 0x11237 }, { 0x1123E, 0x1123E },
	{ 0x112DF, 0x112DF }, { 0x112E3, 0x112EA }, { 0x11300, 0x11301 }, { 0x1133B, 0x1133C },
	{ 0x11340, 0x11340 }, { 0x11366, 0x11374 }, { 0x11438, 0x1143F }, { 0x11442, 0x11444 },
	{ 0x11446, 0x11446 }, { 0x1145E, 0x1145E }, { 0x114B3, 0x114B8 }, { 0x114BA, 0x114BA },
	{ 0x114BF, 0x114C0 }, { 0x114C2, 0x114C3 }, { 0x115B2, 0x115B5 }, { 0x115BC, 0x115BD },
	{ 0x115BF, 0x115C0 }, { 0x115DC, 0x115DD }, { 0x11633, 0x1163A }, { 0x1163D, 0x1163D },
	{ 0x1163F, 0x11640 }, { 0x116AB, 0x116AB }, { 0x116AD, 0x116AD }, { 0x116B0, 0x116B5 },
	{ 0x116B7, 0x116B7 }, { 0x1171D, 0x1171F }, { 0x11722, 0x11725 }, { 0x11727, 0x1172B },
	{ 0x1182F, 0x11837 }, { 0x11839, 0x1183A }, { 0x1193B, 0x1193C }, { 0x1193E, 0x1193E },
	{ 0x11943, 0x11943 }, { 0x119D4, 0x119DB }, { 0x119E0, 0x119E0 }, { 0x11A01, 0x11A0A },
	{ 0x11A33, 0x11A38 }, { 0x11A3B, 0x11A3E }, { 0x11A47, 0x11A47 }, { 0x11A51, 0x11A56 },
	{ 0x11A59, 0x11A5B }, { 0x11A8A, 0x11A96 }, { 0x11A98, 0x11A99 }, { 0x11C30, 0x11C3D },
	{ 0x11C3F, 0x11C3F }, { 0x11C92, 0x11CA7 }, { 0x11CAA, 0x11CB0 }, { 0x11CB2, 0x11CB3 },
	{ 0x11CB5, 0x11CB6 }, { 0x11D31, 0x11D45 }, { 0x11D47, 0x11D47 }, { 0x11D90, 0x11D91 },
	{ 0x11D95, 0x11D95 }, { 0x11D97, 0x11D97 }, { 0x11EF3, 0x11EF4 }, { 0x13430, 0x13438 },
	{ 0x16AF0, 0x16AF4 }, { 0x16B30, 0x16B36 }, { 0x16F4F, 0x16F4F }, { 0x16F8F, 0x16F92 },
	{ 0x16FE4, 0x16FE4 }, { 0x1BC9D, 0x1BC9E }, { 0x1BCA0, 0x1CF46 }, { 0x1D167, 0x1D169 },
	{ 0x1D173, 0x1D182 }, { 0x1D185, 0x1D18B }, { 0x1D1AA, 0x1D1AD }, { 0x1D242, 0x1D244 },
	{ 0x1DA00, 0x1DA36 }, { 0x1DA3B, 0x1DA6C }, { 0x1DA75, 0x1DA75 }, { 0x1DA84, 0x1DA84 },
	{ 0x1DA9B, 0x1DAAF }, { 0x1E000, 0x1E02A }, { 0x1E130, 0x1E136 }, { 0x1E2AE, 0x1E2AE },
	{ 0x1E2EC, 0x1E2EF }, { 0x1E8D0, 0x1E8D6 }, { 0x1E944, 0x1E94A }, { 0xE0001, 0xE01EF },
};
static const struct cprange double_width[] = {
	{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC },
	{ 0x23F0, 0x23F0 }, { 0x23F3, 0x23F3 }, { 0x25FD, 0x25FE }, { 0x2614, 0x2615 },
	{ 0x2648, 0x2653 }, { 0x267F, 0x267F }, { 0x2693, 0x2693 }, { 0x26A1, 0x26A1 },
	{ 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 }, { 0x26CE, 0x26CE },
	{ 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA }, { 0x26F2, 0x26F3 }, { 0x26F5, 0x26F5 },
	{ 0x26FA, 0x26FA }, { 0x26FD, 0x26FD }, { 0x2705, 0x2705 }, { 0x270A, 0x270B },
	{ 0x2728, 0x2728 }, { 0x274C, 0x274C }, { 0x274E, 0x274E }, { 0x2753, 0x2755 },
	{ 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF },
	{ 0x2B1B, 0x2B1C }, { 0x2B50, 0x2B50 }, { 0x2B55, 0x2B55 }, { 0x2E80, 0x303E },
	{ 0x3041, 0x3247 }, { 0x3250, 0x4DBF }, { 0x4E00, 0xA4C6 }, { 0xA960, 0xA97C },
	{ 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF }, { 0xFE10, 0xFE6B }, { 0xFF01, 0xFF60 },
	{ 0xFFE0, 0xFFE6 }, { 0x16FE0, 0x1B2FB }, { 0x1F004, 0x1F004 }, { 0x1F0CF, 0x1F0CF },
	{ 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A }, { 0x1F200, 0x1F320 }, { 0x1F32D, 0x1F335 },
	{ 0x1F337, 0x1F37C }, { 0x1F37E, 0x1F393 }, { 0x1F3A0, 0x1F3CA }, { 0x1F3CF, 0x1F3D3 },
	{ 0x1F3E0, 0x1F3F0 }, { 0x1F3F4, 0x1F3F4 }, { 0x1F3F8, 0x1F43E }, { 0x1F440, 0x1F440 },
	{ 0x1F442, 0x1F4FC }, { 0x1F4FF, 0x1F53D }, { 0x1F54B, 0x1F54E }, { 0x1F550, 0x1F567 },
	{ 0x1F57A, 0x1F57A }, { 0x1F595, 0x1F596 }, { 0x1F5A4, 0x1F5A4 }, { 0x1F5FB, 0x1F64F },
	{ 0x1F680, 0x1F6C5 }, { 0x1F6CC, 0x1F6CC }, { 0x1F6D0, 0x1F6D2 }, { 0x1F6D5, 0x1F6DF },
	{ 0x1F6EB, 0x1F6EC }, { 0x1F6F4, 0x1F6FC }, { 0x1F7E0, 0x1F7F0 }, { 0x1F90C, 0x1F93A },
	{ 0x1F93C, 0x1F945 }, { 0x1F947, 0x1F9FF }, { 0x1FA70, 0x1FAF6 }, { 0x20000, 0x3FFFD },
};

static int
in_ranges(uint32_t cp, const struct cprange *r, size_t n)
{
	size_t lo = 0, hi = n, mid;

	if (n == 0 || cp < r[0].lo || cp > r[n - 1].hi)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp > r[mid].hi)
			lo = mid + 1;
		else if (cp < r[mid].lo)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/* cp_width returns the terminal columns of one code point: 0, 1 or 2. */
static size_t
cp_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 0;
	if (cp < 0x300)
		return 1;
	if (in_ranges(cp, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
		return 0;
	if (in_ranges(cp, double_width, sizeof(double_width) / sizeof(double_width[0])))
		return 2;
	return 1;
}

/*
 * u8_next decodes the UTF-8 sequence at s[0..n), n > 0, into *cp.
 * Returns its length, or 0 when the bytes there are not well-formed UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included).
 */
static size_t
u8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4; c &= 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static void
u8_put(struct buf *b, uint32_t cp)
{
	char e[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
		return;
	}
	if (cp < 0x800) {
		e[0] = (char)(0xC0 | (cp >> 6));
		e[1] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, e, 2);
	} else if (cp < 0x10000) {
		e[0] = (char)(0xE0 | (cp >> 12));
		e[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		e[2] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, e, 3);
	} else {
		e[0] = (char)(0xF0 | (cp >> 18));
		e[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		e[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		e[3] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, e, 4);
	}
}

size_t
tb_text_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, w = 0;
	uint32_t cp;

	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x7F) {
			w++;
			i++;
			continue;
		}
		if ((k = u8_next(p + i, len - i, &cp)) == 0) {
			w++;
			i++;
			continue;
		}
		w += cp_width(cp);
		i += k;
	}
	return w;
}

/* ---- Cell text as shown ---- */

enum shown { SHOW_TEXT, SHOW_MARKDOWN, SHOW_HTML };

static const char hexdig[] = "0123456789abcdef";

/* needs_escape reports whether a code point must never reach a terminal or a page raw. */
static int
needs_escape(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static void
put_uesc(struct buf *b, uint32_t cp)
{
	char e[6] = { '\\', 'u', hexdig[(cp >> 12) & 15], hexdig[(cp >> 8) & 15],
	    hexdig[(cp >> 4) & 15], hexdig[cp & 15] };

	switch (cp) {
	case '\t':	buf_add(b, "\\t", 2); return;
	case '\n':	buf_add(b, "\\n", 2); return;
	case '\r':	buf_add(b, "\\r", 2); return;
	}
	buf_add(b, e, 6);
}

/* word_byte reports whether a byte belongs to a word for Markdown's emphasis rules (non-ASCII counts). */
static int
word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/*
 * show appends text as it is shown in table, markdown or html output:
 * control and other dangerous characters escaped, plus what the language
 * needs escaped.
 */
static void
show(struct buf *b, const char *s, size_t n, enum shown how)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp;
	unsigned char c;

	while (i < n) {
		c = p[i];
		if (how == SHOW_TEXT && c >= 0x20 && c < 0x7F) {
			for (k = i + 1; k < n && p[k] >= 0x20 && p[k] < 0x7F; k++)
				;
			buf_add(b, p + i, k - i);
			i = k;
			continue;
		}
		if (c >= 0x20 && c < 0x7F) {
			if (how == SHOW_HTML) {
				switch (c) {
				case '&':	buf_adds(b, "&amp;"); i++; continue;
				case '<':	buf_adds(b, "&lt;"); i++; continue;
				case '>':	buf_adds(b, "&gt;"); i++; continue;
				case '"':	buf_adds(b, "&quot;"); i++; continue;
				case '\'':	buf_adds(b, "&#39;"); i++; continue;
				}
			} else if (how == SHOW_MARKDOWN) {
				if (strchr("\\|*`<>[]~&", c) != NULL ||
				    (c == '_' && !(i > 0 && word_byte(p[i - 1]) &&
				    i + 1 < n && word_byte(p[i + 1]))))
					buf_addc(b, '\\');
			}
			buf_addc(b, (char)c);
			i++;
			continue;
		}
		if ((k = u8_next(p + i, n - i, &cp)) == 0) {
			char e[4] = { '\\', 'x', hexdig[c >> 4], hexdig[c & 15] };
			buf_add(b, e, 4);
			i++;
			continue;
		}
		if (needs_escape(cp))
			put_uesc(b, cp);
		else
			buf_add(b, p + i, k);
		i += k;
	}
}

/* ---- Columns ---- */

static size_t
col_find(const struct tb *t, const char *name)
{
	size_t i;

	if (t->hint < t->ncols && strcmp(t->cols[t->hint].name, name) == 0)
		return t->hint;
	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return i;
	return NONE;
}

/* round_of returns the digits tb_round gave a column name, or -1. */
static int
round_of(const struct tb *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nrounds; i++)
		if (strcmp(t->rounds[i].name, name) == 0)
			return t->rdigits[i];
	return -1;
}

static size_t
col_get(struct tb *t, const char *name)
{
	struct column *c;
	struct buf j = BUF_INIT;
	size_t i;

	if ((i = col_find(t, name)) == NONE) {
		if (t->ncols == t->capcols) {
			t->capcols = t->capcols ? 2 * t->capcols : 16;
			t->cols = xrealloc(t->cols, t->capcols * sizeof(*t->cols));
			t->map = xrealloc(t->map, t->capcols * sizeof(*t->map));
		}
		i = t->ncols++;
		c = &t->cols[i];
		memset(c, 0, sizeof(*c));
		c->name = xstrdup(name);
		c->digits = round_of(t, name);
		jw_cstr(&j, name);
		c->jlen = j.len;
		c->jname = buf_cstr(&j);
		t->map[i] = NONE;
	}
	t->hint = i + 1;
	return i;
}

size_t
tb_column(struct tb *t, const char *name)
{
	return col_get(t, name);
}

size_t
tb_ncolumns(const struct tb *t)
{
	return t->ncols;
}

const char *
tb_column_name(const struct tb *t, size_t i)
{
	return i < t->ncols ? t->cols[i].name : NULL;
}

/* ---- Rows and cells ---- */

void
tb_row(struct tb *t)
{
	if (t->nrows > 0 && t->fmt->streams && t->nkeys == 0 && t->top == 0)
		write_rows(t);	/* a finished row that no batch can reorder: out now */
	if (t->top > 0 && t->nkeys > 0 && t->top <= COMPACT_TOP && t->nrows >= 2 * t->top + COMPACT_SLACK)
		compact(t);	/* a batch with top N holds at most about 2N + slack rows */
	if (t->nrows == t->caprows) {
		t->caprows = t->caprows ? 2 * t->caprows : 64;
		t->rows = xrealloc(t->rows, t->caprows * sizeof(*t->rows));
	}
	t->rows[t->nrows].cell0 = t->ncells;
	t->rows[t->nrows].ncells = 0;
	t->nrows++;
	t->inrow = true;
}

/* json_string_end reports whether the quote at s[n-1] closes the string (is not escaped). */
static int
closing_quote(const char *s, size_t n)
{
	size_t bs = 0;

	while (n - 1 - bs > 0 && s[n - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

static unsigned
hex4(const char *s)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return 0x110000;
	}
	return v;
}

/*
 * unescape appends the bytes a JSON string's inside s[0..n) stands for.
 * A lone surrogate becomes U+FFFD; a malformed escape is kept as it is.
 */
static void
unescape(struct buf *b, const char *s, size_t n)
{
	size_t i = 0, run;
	unsigned u, lo;

	while (i < n) {
		run = i;
		while (run < n && s[run] != '\\')
			run++;
		buf_add(b, s + i, run - i);
		if ((i = run) >= n)
			break;
		if (i + 1 >= n) {
			buf_addc(b, '\\');
			break;
		}
		switch (s[i + 1]) {
		case '"':	buf_addc(b, '"'); break;
		case '\\':	buf_addc(b, '\\'); break;
		case '/':	buf_addc(b, '/'); break;
		case 'b':	buf_addc(b, '\b'); break;
		case 'f':	buf_addc(b, '\f'); break;
		case 'n':	buf_addc(b, '\n'); break;
		case 'r':	buf_addc(b, '\r'); break;
		case 't':	buf_addc(b, '\t'); break;
		case 'u':
			if (i + 6 > n || (u = hex4(s + i + 2)) > 0xFFFF) {
				buf_add(b, s + i, 2);
				break;
			}
			i += 4;
			if (u >= 0xD800 && u <= 0xDBFF && i + 8 <= n && s[i + 2] == '\\' &&
			    s[i + 3] == 'u' && (lo = hex4(s + i + 4)) >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			} else if (u >= 0xD800 && u <= 0xDFFF)
				u = 0xFFFD;
			u8_put(b, u);
			break;
		default:
			buf_add(b, s + i, 2);
			break;
		}
		i += 2;
	}
}

/*
 * classify fills c->type (and the number or boolean) from a compact JSON
 * value's text.  Returns 0, or -1 when the text is not a value as
 * tb_cell describes it.
 */
static int
classify(const char *s, size_t n, struct cell *c)
{
	struct rec_val v;

	if (n == 0)
		return -1;
	switch (s[0]) {
	case '"':
		if (n < 2 || s[n - 1] != '"' || !closing_quote(s, n))
			return -1;
		c->type = C_STRING;
		return 0;
	case '[':
		c->type = C_ARRAY;
		return s[n - 1] == ']' ? 0 : -1;
	case '{':
		c->type = C_OBJECT;
		return s[n - 1] == '}' ? 0 : -1;
	case 't':
	case 'f':
		c->type = C_BOOL;
		c->i = s[0] == 't';
		return (n == 4 && memcmp(s, "true", 4) == 0) ||
		    (n == 5 && memcmp(s, "false", 5) == 0) ? 0 : -1;
	case 'n':
		c->type = C_NULL;
		return n == 4 && memcmp(s, "null", 4) == 0 ? 0 : -1;
	}
	switch (rec_number(s, n, &v)) {
	case RT_INT:
		c->isint = true;
		c->i = v.i;
		c->d = v.d;
		break;
	case RT_REAL:
		c->d = v.d;
		break;
	default:
		return -1;
	}
	c->type = C_NUMBER;
	return 0;
}

/* strpbrk_n reports whether any byte of set is in s[0..n). */
static bool
strpbrk_n(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(set, s[i]) != NULL)
			return true;
	return false;
}

/* add_cell appends a classified cell (c->type and its value filled) with its JSON text to the current row. */
static void
add_cell(struct tb *t, const char *column, const char *json, size_t len, struct cell *c)
{
	if (!t->inrow)
		tb_row(t);
	c->col = col_get(t, column);
	/* A real in a rounded column is kept rounded; c->d keeps its exact value for sorting. */
	if (t->cols[c->col].digits >= 0 && c->type == C_NUMBER && strpbrk_n(json, len, ".eE")) {
		buf_reset(&t->rbuf);
		if (tb_round_text(&t->rbuf, json, len, (unsigned)t->cols[c->col].digits) == 0) {
			json = t->rbuf.p;
			len = t->rbuf.len;
		}
	}
	c->off = t->bytes.len;
	c->len = len;
	buf_add(&t->bytes, json, len);
	if (c->type == C_STRING && memchr(json + 1, '\\', len - 2) != NULL) {
		c->toff = t->bytes.len;
		unescape(&t->bytes, json + 1, len - 2);
		c->tlen = t->bytes.len - c->toff;
	} else if (c->type == C_STRING) {
		c->toff = c->off + 1;
		c->tlen = len - 2;
	} else {
		c->toff = c->off;
		c->tlen = c->type == C_NULL ? 0 : len;
	}
	if (t->ncells == t->capcells) {
		t->capcells = t->capcells ? 2 * t->capcells : 256;
		t->cells = xrealloc(t->cells, t->capcells * sizeof(*t->cells));
	}
	t->cells[t->ncells++] = *c;
	t->rows[t->nrows - 1].ncells++;
}

int
tb_cell(struct tb *t, const char *column, const char *json, size_t len)
{
	struct cell c;

	memset(&c, 0, sizeof(c));
	if (classify(json, len, &c) < 0) {
		errno = EINVAL;
		return -1;
	}
	add_cell(t, column, json, len, &c);
	return 0;
}

/* The typed setters know their cell's type: they build its JSON text in t->jbuf and skip classify. */
void
tb_cell_str(struct tb *t, const char *column, const char *s, size_t len)
{
	struct cell c = { .type = C_STRING };

	buf_reset(&t->jbuf);
	jw_str(&t->jbuf, s, len);
	add_cell(t, column, t->jbuf.p, t->jbuf.len, &c);
}

void
tb_cell_int(struct tb *t, const char *column, int64_t v)
{
	struct cell c = { .type = C_NUMBER, .isint = true, .i = v, .d = (double)v };

	buf_reset(&t->jbuf);
	jw_int(&t->jbuf, v);
	add_cell(t, column, t->jbuf.p, t->jbuf.len, &c);
}

void
tb_cell_real(struct tb *t, const char *column, double d)
{
	struct cell c = { .type = C_NUMBER, .d = d };

	buf_reset(&t->jbuf);
	jw_real(&t->jbuf, d);
	if (t->jbuf.len == 4 && memcmp(t->jbuf.p, "null", 4) == 0)
		c.type = C_NULL;	/* NaN or an infinity */
	add_cell(t, column, t->jbuf.p, t->jbuf.len, &c);
}

void
tb_cell_null(struct tb *t, const char *column)
{
	struct cell c = { .type = C_NULL };

	add_cell(t, column, "null", 4, &c);
}

size_t
tb_pending(const struct tb *t)
{
	return t->nrows;
}

/* map_row points t->map at row r's cells (the last cell of a column wins); map_clear undoes it. */
static void
map_row(struct tb *t, size_t r)
{
	size_t i, k = t->rows[r].cell0;

	for (i = 0; i < t->rows[r].ncells; i++)
		t->map[t->cells[k + i].col] = k + i;
}

static void
map_clear(struct tb *t, size_t r)
{
	size_t i, k = t->rows[r].cell0;

	for (i = 0; i < t->rows[r].ncells; i++)
		t->map[t->cells[k + i].col] = NONE;
}

/* at returns the current row's cell of column c, or NULL. */
static const struct cell *
at(const struct tb *t, size_t c)
{
	return t->map[c] == NONE ? NULL : &t->cells[t->map[c]];
}

static const char *
text_of(const struct tb *t, const struct cell *c)
{
	return t->bytes.p + c->toff;
}

static const char *
json_of(const struct tb *t, const struct cell *c)
{
	return t->bytes.p + c->off;
}

/* ---- Sorting and cutting ---- */

void
tb_sort(struct tb *t, const char *column, bool desc)
{
	t->keys = xrealloc(t->keys, (t->nkeys + 1) * sizeof(*t->keys));
	t->keys[t->nkeys].name = xstrdup(column);
	t->keys[t->nkeys].desc = desc;
	t->nkeys++;
}

int
tb_sort_spec(struct tb *t, const char *spec, const char **why)
{
	const char *s, *e, *colon, *reason = NULL;
	size_t n, first = t->nkeys;
	int sign;
	bool desc;
	char *name;

	for (s = spec;; s = e + 1) {
		e = s + strcspn(s, ",");
		sign = *s == '-' ? -1 : *s == '+' ? 1 : 0;
		if (sign)
			s++;
		n = (size_t)(e - s);
		desc = sign < 0;
		colon = NULL;
		if (n >= 4 && memcmp(e - 4, ":asc", 4) == 0)
			colon = e - 4;
		else if (n >= 5 && memcmp(e - 5, ":desc", 5) == 0)
			colon = e - 5;
		if (colon) {
			if (sign)
				reason = "both a sign and a direction";
			desc = colon[1] == 'd';
			n = (size_t)(colon - s);
		}
		if (n == 0 && reason == NULL)
			reason = "empty column name";
		if (reason)
			break;
		name = xstrndup(s, n);
		tb_sort(t, name, desc);
		free(name);
		if (*e == '\0')
			break;
	}
	if (reason) {
		while (t->nkeys > first)
			free(t->keys[--t->nkeys].name);
		if (why)
			*why = reason;
		errno = EINVAL;
		return -1;
	}
	return 0;
}

size_t
tb_nsort(const struct tb *t)
{
	return t->nkeys;
}

const char *
tb_sort_key(const struct tb *t, size_t i, bool *desc)
{
	if (i >= t->nkeys)
		return NULL;
	if (desc)
		*desc = t->keys[i].desc;
	return t->keys[i].name;
}

void
tb_top(struct tb *t, uint64_t n)
{
	t->top = n;
}

void
tb_round(struct tb *t, const char *column, unsigned digits)
{
	size_t i;

	t->rounds = xrealloc(t->rounds, (t->nrounds + 1) * sizeof(*t->rounds));
	t->rdigits = xrealloc(t->rdigits, (t->nrounds + 1) * sizeof(*t->rdigits));
	t->rounds[t->nrounds].name = xstrdup(column);
	t->rdigits[t->nrounds++] = (int)digits;
	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, column) == 0)
			t->cols[i].digits = (int)digits;
}

/*
 * tb_round_text: the number's digits go to d[0..nd) without leading
 * zeros, its decimal point after `point` of them (point may be negative
 * or past nd); they are cut after the point + digits'th, rounding half
 * away from zero, and written back in fixed notation.
 */
#define ROUND_MAXPOINT	1000	/* a number beyond 10^1000 or below 10^-1000 is kept as it is */

int
tb_round_text(struct buf *out, const char *s, size_t n, unsigned digits)
{
	char small[64], *d;
	const char *p = s, *e = s + n;
	long point = 0, exp = 0, keep, i;
	size_t nd = 0;
	bool neg = false, any = false, eneg = false, zero;

	if (p < e && *p == '-') {
		neg = true;
		p++;
	}
	d = n <= sizeof(small) ? small : xmalloc(n);
	for (; p < e && *p >= '0' && *p <= '9'; p++, any = true) {
		if (nd > 0 || *p != '0')
			d[nd++] = *p;
		if (nd > 0)
			point++;
	}
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++, any = true) {
			if (nd > 0 || *p != '0')
				d[nd++] = *p;
			else
				point--;
		}
	}
	if (any && p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == e)
			any = false;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			if (exp < 10 * ROUND_MAXPOINT)
				exp = exp * 10 + (*p - '0');
	}
	if (!any || p != e || digits > ROUND_MAXPOINT) {
		if (d != small)
			free(d);
		errno = EINVAL;
		return -1;
	}
	point += eneg ? -exp : exp;
	if (nd > 0 && (point > ROUND_MAXPOINT || point < -ROUND_MAXPOINT)) {
		buf_add(out, s, n);
		if (d != small)
			free(d);
		return 0;
	}
	keep = point + (long)digits;
	if (keep < 0)
		nd = 0;
	else if ((size_t)keep < nd) {
		bool up = d[keep] >= '5';	/* a tie (5 and nothing after, or more) rounds away from zero */

		nd = (size_t)keep;
		for (i = keep - 1; up && i >= 0; i--) {
			if (d[i] == '9')
				d[i] = '0';
			else {
				d[i]++;
				up = false;
			}
		}
		if (up) {	/* 9.99 -> 10.0: a new first digit */
			if (nd > 0)
				memmove(d + 1, d, nd);
			d[0] = '1';
			nd++;
			point++;
		}
	}
	for (zero = true, i = 0; i < (long)nd; i++)
		if (d[i] != '0')
			zero = false;
	if (neg && !zero)	/* a result of zero is written without its sign */
		buf_addc(out, '-');
	if (point <= 0)
		buf_addc(out, '0');
	for (i = 0; i < point; i++)
		buf_addc(out, i < (long)nd ? d[i] : '0');
	if (digits > 0)
		buf_addc(out, '.');
	for (i = point; i < point + (long)digits; i++)
		buf_addc(out, i >= 0 && i < (long)nd ? d[i] : '0');
	if (d != small)
		free(d);
	return 0;
}

/* cmp_cells orders two non-null cells ascending. */
static int
cmp_cells(const struct tb *t, const struct cell *a, const struct cell *b)
{
	size_t n;
	int r;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type) {
	case C_NUMBER:
		if (a->isint && b->isint)
			return (a->i > b->i) - (a->i < b->i);
		return (a->d > b->d) - (a->d < b->d);
	case C_BOOL:
		return (a->i > b->i) - (a->i < b->i);
	case C_STRING:
		n = a->tlen < b->tlen ? a->tlen : b->tlen;
		r = n ? memcmp(text_of(t, a), text_of(t, b), n) : 0;
		return r ? (r < 0 ? -1 : 1) : (a->tlen > b->tlen) - (a->tlen < b->tlen);
	default:
		n = a->len < b->len ? a->len : b->len;
		r = memcmp(json_of(t, a), json_of(t, b), n);
		return r ? (r < 0 ? -1 : 1) : (a->len > b->len) - (a->len < b->len);
	}
}

/* cmp_rows orders rows x and y of the batch by the sort keys; 0 for a tie. */
static int
cmp_rows(const struct tb *t, size_t x, size_t y)
{
	const struct cell *a, *b;
	size_t k, ka, kb;
	int r;

	for (k = 0; k < t->nkeys; k++) {
		ka = t->keycell[k * t->nrows + x];
		kb = t->keycell[k * t->nrows + y];
		a = ka == NONE || t->cells[ka].type == C_NULL ? NULL : &t->cells[ka];
		b = kb == NONE || t->cells[kb].type == C_NULL ? NULL : &t->cells[kb];
		if (a == NULL || b == NULL) {
			if (a != b)
				return a == NULL ? 1 : -1;
			continue;
		}
		if ((r = cmp_cells(t, a, b)) != 0)
			return t->keys[k].desc ? -r : r;
	}
	return 0;
}

/*
 * sort_batch fills t->order with the batch's rows in output order: a
 * bottom-up merge sort, stable because a tie takes the left run first.
 */
static void
sort_batch(struct tb *t)
{
	size_t n = t->nrows, k, r, i, col, w, lo, mid, hi, a, b, o;
	size_t *src, *dst, *sw;

	if (n > t->caporder) {
		t->caporder = n;
		t->order = xrealloc(t->order, n * sizeof(*t->order));
		t->tmp = xrealloc(t->tmp, n * sizeof(*t->tmp));
	}
	for (r = 0; r < n; r++)
		t->order[r] = r;
	if (t->nkeys == 0 || n < 2)
		return;
	if (t->nkeys * n > t->capkeycell) {
		t->capkeycell = t->nkeys * n;
		t->keycell = xrealloc(t->keycell, t->capkeycell * sizeof(*t->keycell));
	}
	for (k = 0; k < t->nkeys; k++) {
		col = col_find(t, t->keys[k].name);
		for (r = 0; r < n; r++) {
			size_t found = NONE;
			for (i = 0; col != NONE && i < t->rows[r].ncells; i++)
				if (t->cells[t->rows[r].cell0 + i].col == col)
					found = t->rows[r].cell0 + i;
			t->keycell[k * n + r] = found;
		}
	}
	src = t->order;
	dst = t->tmp;
	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			mid = lo + w < n ? lo + w : n;
			hi = lo + 2 * w < n ? lo + 2 * w : n;
			a = lo;
			b = mid;
			for (o = lo; o < hi; o++)
				if (a < mid && (b >= hi || cmp_rows(t, src[a], src[b]) <= 0))
					dst[o] = src[a++];
				else
					dst[o] = src[b++];
		}
		sw = src;
		src = dst;
		dst = sw;
	}
	if (src != t->order)
		memcpy(t->order, src, n * sizeof(*src));
}

/*
 * compact keeps only the first top rows of the pending batch, in sorted
 * order, and drops the others with their bytes.  The rows that follow are
 * added after them, so the batch's stable sort at the flush still ranks
 * a later row after an earlier one it ties with: the flush writes what
 * it would have written from every row.
 */
static void
compact(struct tb *t)
{
	struct buf nb = BUF_INIT;
	struct cell *nc, c;
	struct row *nr;
	size_t keep = (size_t)t->top, i, k, r, ncells = 0, off;

	sort_batch(t);
	for (i = 0; i < keep; i++)
		ncells += t->rows[t->order[i]].ncells;
	nc = xmalloc(t->capcells * sizeof(*nc));
	nr = xmalloc(t->caprows * sizeof(*nr));
	ncells = 0;
	for (i = 0; i < keep; i++) {
		r = t->order[i];
		nr[i].cell0 = ncells;
		nr[i].ncells = t->rows[r].ncells;
		for (k = 0; k < t->rows[r].ncells; k++) {
			c = t->cells[t->rows[r].cell0 + k];
			off = nb.len;
			buf_add(&nb, t->bytes.p + c.off, c.len);
			if (c.toff >= c.off && c.toff + c.tlen <= c.off + c.len)
				c.toff = off + (c.toff - c.off);	/* the text is inside the JSON */
			else {
				buf_add(&nb, t->bytes.p + c.toff, c.tlen);	/* unescaped, after it */
				c.toff = off + c.len;
			}
			c.off = off;
			nc[ncells++] = c;
		}
	}
	free(t->cells);
	free(t->rows);
	buf_free(&t->bytes);
	t->cells = nc;
	t->rows = nr;
	t->bytes = nb;
	t->ncells = ncells;
	t->nrows = keep;
}

/* ---- Formats ---- */

/* put_object appends the current row as a JSON object, keys in column order. */
static void
put_object(struct tb *t)
{
	const struct cell *c;
	size_t i;
	bool first = true;

	buf_addc(&t->obuf, '{');
	for (i = 0; i < t->ncols; i++) {
		if ((c = at(t, i)) == NULL)
			continue;
		if (!first)
			buf_addc(&t->obuf, ',');
		first = false;
		buf_add(&t->obuf, t->cols[i].jname, t->cols[i].jlen);
		buf_addc(&t->obuf, ':');
		buf_add(&t->obuf, json_of(t, c), c->len);
	}
	buf_addc(&t->obuf, '}');
}

static void
nop(struct tb *t)
{
	(void)t;
}

static void
ndjson_row(struct tb *t)
{
	put_object(t);
	buf_addc(&t->obuf, '\n');
}

static void
json_begin(struct tb *t)
{
	if (!t->opened)
		buf_adds(&t->obuf, "[\n");
	t->opened = true;
}

static void
json_row(struct tb *t)
{
	if (t->written > 0 || t->nrow > 0)
		buf_adds(&t->obuf, ",\n");
	put_object(t);
}

static void
json_end(struct tb *t)
{
	buf_adds(&t->obuf, t->opened ? "\n]\n" : "[]\n");
}

/*
 * header_due says what the header needs before this batch: 0 nothing,
 * 1 the first header, 2 a new header block for late columns.  No columns,
 * no header.
 */
static int
header_due(const struct tb *t)
{
	if (t->ncols == 0)
		return 0;
	if (!t->headed)
		return 1;
	return t->ncols > t->hdrcols ? 2 : 0;
}

/*
 * scan_batch looks at every cell of the batch: widens the columns' widths
 * (table) and, for columns whose name is not printed yet, notes whether
 * they hold numbers only, which decides their alignment.
 */
static void
scan_batch(struct tb *t, bool widths)
{
	const struct cell *c;
	size_t i, j, w, first = t->headed ? t->hdrcols : 0;

	for (j = first; j < t->ncols; j++) {
		t->cols[j].hasnum = t->cols[j].hasother = false;
		if (widths) {
			buf_reset(&t->cbuf);
			show(&t->cbuf, t->cols[j].name, strlen(t->cols[j].name), SHOW_TEXT);
			t->cols[j].width = tb_text_width(t->cbuf.p, t->cbuf.len);
		}
	}
	for (i = 0; i < t->nout; i++) {
		map_row(t, t->order[i]);
		for (j = 0; j < t->ncols; j++) {
			if ((c = at(t, j)) == NULL)
				continue;
			if (j >= first && c->type == C_NUMBER)
				t->cols[j].hasnum = true;
			else if (j >= first && c->type != C_NULL)
				t->cols[j].hasother = true;
			if (widths) {
				buf_reset(&t->cbuf);
				show(&t->cbuf, text_of(t, c), c->tlen, SHOW_TEXT);
				w = tb_text_width(t->cbuf.p, t->cbuf.len);
				if (w > t->cols[j].width)
					t->cols[j].width = w;
			}
		}
		map_clear(t, t->order[i]);
	}
	for (j = first; j < t->ncols; j++)
		t->cols[j].numeric = t->cols[j].hasnum && !t->cols[j].hasother;
}

/* header_done records that the header names every column known now. */
static void
header_done(struct tb *t)
{
	t->headed = true;
	t->hdrcols = t->ncols;
}

/* csv_field appends one CSV field (RFC 4180 quoting; see table.h for null and ""). */
static void
csv_field(struct buf *o, const char *s, size_t n, bool is_str)
{
	size_t i;

	if (n == 0) {
		if (is_str)
			buf_add(o, "\"\"", 2);
		return;
	}
	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			break;
	if (i == n && s[0] != ' ' && s[n - 1] != ' ') {
		buf_add(o, s, n);
		return;
	}
	buf_addc(o, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(o, '"');
		buf_addc(o, s[i]);
	}
	buf_addc(o, '"');
}

/* tsv_field appends one TSV field with \ tab LF CR escaped. */
static void
tsv_field(struct buf *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '\\':	buf_add(o, "\\\\", 2); break;
		case '\t':	buf_add(o, "\\t", 2); break;
		case '\n':	buf_add(o, "\\n", 2); break;
		case '\r':	buf_add(o, "\\r", 2); break;
		default:	buf_addc(o, s[i]); break;
		}
}

static void
sep_header(struct tb *t, char sep, bool tsv)
{
	size_t i;
	const char *s;

	if (header_due(t) == 2)
		buf_addc(&t->obuf, '\n');
	for (i = 0; i < t->ncols; i++) {
		if (i)
			buf_addc(&t->obuf, sep);
		s = t->cols[i].name;
		if (tsv)
			tsv_field(&t->obuf, s, strlen(s));
		else
			csv_field(&t->obuf, s, strlen(s), true);
	}
	buf_addc(&t->obuf, '\n');
	header_done(t);
}

static void
csv_begin(struct tb *t)
{
	if (header_due(t))
		sep_header(t, ',', false);
}

static void
csv_row(struct tb *t)
{
	const struct cell *c;
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (i)
			buf_addc(&t->obuf, ',');
		if ((c = at(t, i)) != NULL && c->type != C_NULL)
			csv_field(&t->obuf, text_of(t, c), c->tlen, c->type == C_STRING);
	}
	buf_addc(&t->obuf, '\n');
}

static void
tsv_begin(struct tb *t)
{
	if (header_due(t))
		sep_header(t, '\t', true);
}

static void
tsv_row(struct tb *t)
{
	const struct cell *c;
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (i)
			buf_addc(&t->obuf, '\t');
		if ((c = at(t, i)) != NULL)
			tsv_field(&t->obuf, text_of(t, c), c->tlen);
	}
	buf_addc(&t->obuf, '\n');
}

/* headed_end writes the header of a table that never had a row, for the formats whose header is a line. */
static void
headed_end(struct tb *t)
{
	if (header_due(t) == 1) {
		t->nout = 0;
		t->fmt->begin(t);
	}
}

/*
 * text_cell appends one aligned cell of the text table: s (already
 * shown) padded to the column's width, on the left when right-aligned.
 */
static void
text_cell(struct tb *t, size_t col, const char *s, size_t n)
{
	size_t w = tb_text_width(s, n), pad = t->cols[col].width > w ? t->cols[col].width - w : 0;

	if (col)
		buf_add(&t->obuf, "  ", 2);
	if (t->cols[col].numeric)
		while (pad-- > 0)
			buf_addc(&t->obuf, ' ');
	buf_add(&t->obuf, s, n);
	if (!t->cols[col].numeric)
		while (pad-- > 0)
			buf_addc(&t->obuf, ' ');
}

/* text_eol ends a line of the text table without trailing spaces. */
static void
text_eol(struct tb *t, size_t line0)
{
	while (t->obuf.len > line0 && t->obuf.p[t->obuf.len - 1] == ' ')
		t->obuf.len--;
	buf_addc(&t->obuf, '\n');
}

static void
text_begin(struct tb *t)
{
	struct buf name = BUF_INIT;
	size_t i, line0;
	int due = header_due(t);

	scan_batch(t, true);
	if (due == 0)
		return;
	if (due == 2)
		buf_addc(&t->obuf, '\n');
	line0 = t->obuf.len;
	for (i = 0; i < t->ncols; i++) {
		buf_reset(&name);
		show(&name, t->cols[i].name, strlen(t->cols[i].name), SHOW_TEXT);
		text_cell(t, i, name.p, name.len);
	}
	text_eol(t, line0);
	header_done(t);
	buf_free(&name);
}

static void
text_row(struct tb *t)
{
	const struct cell *c;
	size_t i, line0 = t->obuf.len;

	for (i = 0; i < t->ncols; i++) {
		buf_reset(&t->cbuf);
		if ((c = at(t, i)) != NULL)
			show(&t->cbuf, text_of(t, c), c->tlen, SHOW_TEXT);
		text_cell(t, i, t->cbuf.p, t->cbuf.len);
	}
	text_eol(t, line0);
}

static void
md_begin(struct tb *t)
{
	size_t i;
	int due = header_due(t);

	scan_batch(t, false);
	if (due == 0)
		return;
	if (due == 2)
		buf_addc(&t->obuf, '\n');
	buf_addc(&t->obuf, '|');
	for (i = 0; i < t->ncols; i++) {
		buf_addc(&t->obuf, ' ');
		show(&t->obuf, t->cols[i].name, strlen(t->cols[i].name), SHOW_MARKDOWN);
		buf_add(&t->obuf, " |", 2);
	}
	buf_addc(&t->obuf, '\n');
	buf_addc(&t->obuf, '|');
	for (i = 0; i < t->ncols; i++)
		buf_adds(&t->obuf, t->cols[i].numeric ? " ---: |" : " --- |");
	buf_addc(&t->obuf, '\n');
	header_done(t);
}

static void
md_row(struct tb *t)
{
	const struct cell *c;
	size_t i;

	buf_addc(&t->obuf, '|');
	for (i = 0; i < t->ncols; i++) {
		buf_addc(&t->obuf, ' ');
		if ((c = at(t, i)) != NULL)
			show(&t->obuf, text_of(t, c), c->tlen, SHOW_MARKDOWN);
		buf_add(&t->obuf, " |", 2);
	}
	buf_addc(&t->obuf, '\n');
}

static void
html_header_row(struct tb *t)
{
	size_t i;

	buf_adds(&t->obuf, "<tr>");
	for (i = 0; i < t->ncols; i++) {
		buf_adds(&t->obuf, t->cols[i].numeric ? "<th class=\"num\">" : "<th>");
		show(&t->obuf, t->cols[i].name, strlen(t->cols[i].name), SHOW_HTML);
		buf_adds(&t->obuf, "</th>");
	}
	buf_adds(&t->obuf, "</tr>\n");
	header_done(t);
}

static void
html_begin(struct tb *t)
{
	scan_batch(t, false);
	if (!t->opened) {
		buf_adds(&t->obuf, "<table>\n");
		if (t->ncols) {
			buf_adds(&t->obuf, "<thead>\n");
			html_header_row(t);
			buf_adds(&t->obuf, "</thead>\n");
		}
		buf_adds(&t->obuf, "<tbody>\n");
		t->opened = true;
	} else if (t->ncols > t->hdrcols) {
		buf_adds(&t->obuf, "</tbody>\n<tbody>\n");
		html_header_row(t);
	}
}

static void
html_row(struct tb *t)
{
	const struct cell *c;
	size_t i;

	buf_adds(&t->obuf, "<tr>");
	for (i = 0; i < t->ncols; i++) {
		c = at(t, i);
		buf_adds(&t->obuf, c && c->type == C_NUMBER ? "<td class=\"num\">" : "<td>");
		if (c)
			show(&t->obuf, text_of(t, c), c->tlen, SHOW_HTML);
		buf_adds(&t->obuf, "</td>");
	}
	buf_adds(&t->obuf, "</tr>\n");
}

static void
html_end(struct tb *t)
{
	if (!t->opened) {
		t->nout = 0;
		html_begin(t);
	}
	buf_adds(&t->obuf, "</tbody>\n</table>\n");
}

/* The formats: adding one is adding a row. */
static const struct tb_format formats[] = {
	{ "ndjson",	nop,		ndjson_row,	nop,		true },
	{ "json",	json_begin,	json_row,	json_end,	true },
	{ "csv",	csv_begin,	csv_row,	headed_end,	false },
	{ "tsv",	tsv_begin,	tsv_row,	headed_end,	false },
	{ "table",	text_begin,	text_row,	headed_end,	false },
	{ "markdown",	md_begin,	md_row,		headed_end,	false },
	{ "html",	html_begin,	html_row,	html_end,	false },
};
#define NFORMATS	(sizeof(formats) / sizeof(formats[0]))

const struct tb_format *
tb_format(const char *name)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

const char *
tb_format_name(const struct tb_format *f)
{
	return f->name;
}

const char *
tb_format_names(void)
{
	static const char names[] = "ndjson, json, csv, tsv, table, markdown, html";

	return names;
}

/* ---- The table ---- */

struct tb *
tb_new(const struct tb_format *fmt, FILE *out)
{
	struct tb *t = xcalloc(1, sizeof(*t));

	t->fmt = fmt;
	t->out = out;
	return t;
}

void
tb_free(struct tb *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].jname);
	}
	for (i = 0; i < t->nkeys; i++)
		free(t->keys[i].name);
	for (i = 0; i < t->nrounds; i++)
		free(t->rounds[i].name);
	free(t->rounds);
	free(t->rdigits);
	buf_free(&t->rbuf);
	free(t->cols);
	free(t->map);
	free(t->keys);
	free(t->cells);
	free(t->rows);
	free(t->order);
	free(t->tmp);
	free(t->keycell);
	buf_free(&t->bytes);
	buf_free(&t->obuf);
	buf_free(&t->cbuf);
	buf_free(&t->jbuf);
	free(t);
}

/* spill hands the output buffer to out; the first failure is kept in t->err. */
static void
spill(struct tb *t)
{
	if (t->obuf.len > 0 && t->err == 0) {
		errno = 0;
		if (fwrite(t->obuf.p, 1, t->obuf.len, t->out) != t->obuf.len)
			t->err = errno ? errno : EIO;
	}
	buf_reset(&t->obuf);
}

static int
result(const struct tb *t)
{
	if (t->err) {
		errno = t->err;
		return -1;
	}
	return 0;
}

/*
 * write_rows writes the pending rows, sorted and cut, into t->obuf
 * (handing it to out whenever it passes SPILL_AT) and drops them.
 */
static void
write_rows(struct tb *t)
{
	size_t i, r;

	if (t->nrows > 0 && t->err == 0 && !t->ended) {
		sort_batch(t);
		t->nout = t->top && t->top < t->nrows ? (size_t)t->top : t->nrows;
		t->fmt->begin(t);
		for (i = 0; i < t->nout; i++) {
			r = t->order[i];
			map_row(t, r);
			t->nrow = i;
			t->fmt->row(t);
			map_clear(t, r);
			if (t->obuf.len >= SPILL_AT)
				spill(t);
		}
		t->written += t->nout;
	}
	t->nrows = t->ncells = t->nout = 0;
	buf_reset(&t->bytes);
	t->inrow = false;
}

int
tb_flush(struct tb *t)
{
	write_rows(t);
	spill(t);
	return result(t);
}

int
tb_end(struct tb *t)
{
	if (t->ended)
		return t->endret == 0 ? 0 : (errno = t->err, -1);
	tb_flush(t);
	if (t->err == 0) {
		t->fmt->end(t);
		spill(t);
	}
	t->ended = true;
	t->endret = result(t);
	return t->endret;
}

uint64_t
tb_written(const struct tb *t)
{
	return t->written;
}
