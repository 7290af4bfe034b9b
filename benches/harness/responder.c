/*
 * responder.c - the do-nothing UDP DNS responder: the cost floor of answering a query.
 *
 * Loads the benchmark zone (synth.py's format: one "owner TTL IN TYPE rdata"
 * record a line, absolute names) and precompiles one complete reply per
 * (lower-cased name, type): SRV answers carry one additional A per target,
 * names are compressed. Per query it only parses the question, looks it up in
 * a hash table, copies the reply image and patches ID, RD and the question
 * (so the client's letter case comes back). Names not found get NXDOMAIN, or
 * NOERROR/NODATA when the name has other types, with the zone's SOA.
 * No EDNS, no TCP, no shuffling: a floor to compare real servers with.
 *
 *   responder -z ZONEFILE [-p PORT] [-m 0|1] [-b BATCH] [-n WORKERS] [-r RCVBUF]
 *
 *   -m 0  recvfrom/sendto; -m 1 (default) recvmmsg/sendmmsg, up to BATCH per call
 *   -n    fork WORKERS processes, each with its own SO_REUSEPORT socket
 *   -r    SO_RCVBUF in bytes (default 4 MB; the kernel default overflows under bursts)
 * Listens on 127.0.0.1 only. Build: cc -O2 -o responder responder.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PKT 4096
#define MAX_BATCH 128
#define MAX_NAME 256

struct rdata { /* one record as read from the zone */
	uint8_t owner[MAX_NAME];
	int owner_len;
	uint16_t type;
	uint8_t a[4];                 /* A */
	uint16_t port;                /* SRV */
	uint8_t target[MAX_NAME];     /* SRV target, wire form */
	int target_len;
};

struct entry { /* hash table slot: (name, type) -> reply image */
	uint8_t name[MAX_NAME];
	int name_len;
	uint16_t type; /* 0: "this name exists" marker */
	uint8_t *reply;
	int reply_len;
};

static struct entry *table;
static size_t table_mask;
static uint8_t soa_rr[300];
static int soa_len;

/* "a.b.c." -> lower-case wire form; returns its length or -1 */
static int to_wire(const char *s, uint8_t *w)
{
	int o = 0;
	size_t n = strlen(s);
	if (n && s[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j] != '.')
			j++;
		if (j == i || j - i > 63 || o + (int)(j - i) + 2 > MAX_NAME)
			return -1;
		w[o++] = (uint8_t)(j - i);
		for (size_t k = i; k < j; k++)
			w[o++] = (uint8_t)((s[k] >= 'A' && s[k] <= 'Z') ? s[k] + 32 : s[k]);
		i = j + 1;
	}
	w[o++] = 0;
	return o;
}

static uint64_t hash(const uint8_t *name, int len, uint16_t type)
{
	uint64_t h = 1469598103934665603ull ^ type;
	for (int i = 0; i < len; i++)
		h = (h ^ name[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static struct entry *slot(const uint8_t *name, int len, uint16_t type, int insert)
{
	for (size_t i = hash(name, len, type) & table_mask;; i = (i + 1) & table_mask) {
		struct entry *e = &table[i];
		if (!e->name_len) {
			if (!insert)
				return NULL;
			memcpy(e->name, name, (size_t)len);
			e->name_len = len;
			e->type = type;
			return e;
		}
		if (e->name_len == len && e->type == type && !memcmp(e->name, name, (size_t)len))
			return e;
	}
}

/* A writer of one reply image that compresses names against what it wrote. */
struct msg {
	uint8_t b[MAX_PKT];
	int len;
	int sfx_off[64];
	int nsfx;
};

static int same_name(const struct msg *m, int off, const uint8_t *w)
{
	for (;;) {
		uint8_t l = m->b[off];
		if ((l & 0xC0) == 0xC0) {
			off = (l & 0x3F) << 8 | m->b[off + 1];
			continue;
		}
		if (l != *w || memcmp(m->b + off + 1, w + 1, l))
			return 0;
		if (!l)
			return 1;
		off += l + 1;
		w += l + 1;
	}
}

static void put_name(struct msg *m, const uint8_t *w)
{
	while (*w) {
		for (int i = 0; i < m->nsfx; i++)
			if (same_name(m, m->sfx_off[i], w)) {
				m->b[m->len++] = (uint8_t)(0xC0 | m->sfx_off[i] >> 8);
				m->b[m->len++] = (uint8_t)m->sfx_off[i];
				return;
			}
		if (m->nsfx < 64 && m->len < 0x3FFF)
			m->sfx_off[m->nsfx++] = m->len;
		memcpy(m->b + m->len, w, (size_t)*w + 1);
		m->len += *w + 1;
		w += *w + 1;
	}
	m->b[m->len++] = 0;
}

static void put16(struct msg *m, unsigned v)
{
	m->b[m->len++] = (uint8_t)(v >> 8);
	m->b[m->len++] = (uint8_t)v;
}

static void put_rr_head(struct msg *m, uint16_t type)
{
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 60); /* TTL */
}

static int by_owner_type(const void *x, const void *y)
{
	const struct rdata *a = x, *b = y;
	if (a->owner_len != b->owner_len)
		return a->owner_len - b->owner_len;
	int c = memcmp(a->owner, b->owner, (size_t)a->owner_len);
	return c ? c : a->type - b->type;
}

/* Precompiles the reply for the records rs[0..n) of one (owner, type). */
static void compile(struct rdata *rs, int n, struct rdata *all, int nall)
{
	struct msg m = { .len = 12 };
	m.b[2] = 0x84; /* QR AA */
	m.b[5] = 1;
	memcpy(m.b + 12, rs[0].owner, (size_t)rs[0].owner_len);
	m.sfx_off[m.nsfx++] = 12;
	m.len += rs[0].owner_len;
	put16(&m, rs[0].type);
	put16(&m, 1);
	int an = 0, ar = 0;
	for (int i = 0; i < n && m.len < MAX_PKT - 300; i++, an++) {
		put16(&m, 0xC00C);
		put_rr_head(&m, rs[i].type);
		if (rs[i].type == 1) {
			put16(&m, 4);
			memcpy(m.b + m.len, rs[i].a, 4);
			m.len += 4;
		} else {
			int at = m.len;
			m.len += 2;
			put16(&m, 0);
			put16(&m, 1);
			put16(&m, rs[i].port);
			put_name(&m, rs[i].target);
			m.b[at] = (uint8_t)((m.len - at - 2) >> 8);
			m.b[at + 1] = (uint8_t)(m.len - at - 2);
		}
	}
	if (rs[0].type == 33) /* one A per distinct target, as additional data */
		for (int i = 0; i < n && m.len < MAX_PKT - 300; i++) {
			int dup = 0;
			for (int j = 0; j < i; j++)
				dup |= rs[j].target_len == rs[i].target_len && !memcmp(rs[j].target, rs[i].target, (size_t)rs[i].target_len);
			struct rdata key = { .type = 1 };
			memcpy(key.owner, rs[i].target, (size_t)rs[i].target_len);
			key.owner_len = rs[i].target_len;
			const struct rdata *a = dup ? NULL : bsearch(&key, all, (size_t)nall, sizeof *all, by_owner_type);
			if (!a)
				continue;
			put_name(&m, rs[i].target);
			put_rr_head(&m, 1);
			put16(&m, 4);
			memcpy(m.b + m.len, a->a, 4);
			m.len += 4;
			ar++;
		}
	m.b[7] = (uint8_t)an;
	m.b[6] = (uint8_t)(an >> 8);
	m.b[11] = (uint8_t)ar;
	struct entry *e = slot(rs[0].owner, rs[0].owner_len, rs[0].type, 1);
	e->reply = malloc((size_t)m.len);
	memcpy(e->reply, m.b, (size_t)m.len);
	e->reply_len = m.len;
}

static void load_zone(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t n = 0, cap = 1 << 16;
	struct rdata *rs = malloc(cap * sizeof *rs);
	char line[1024], owner[300], ttl[16], cls[8], type[16], f1[300], f2[64], f3[64], f4[300], f5[64], f6[64], f7[64];
	while (fgets(line, sizeof line, f)) {
		int k = sscanf(line, "%299s %15s %7s %15s %299s %63s %63s %299s %63s %63s %63s", owner, ttl, cls, type, f1, f2, f3, f4, f5, f6, f7);
		if (k < 5 || owner[0] == '$')
			continue;
		if (n == cap)
			rs = realloc(rs, (cap *= 2) * sizeof *rs);
		struct rdata *r = &rs[n];
		memset(r, 0, sizeof *r);
		if ((r->owner_len = to_wire(owner, r->owner)) < 0)
			continue;
		if (!strcmp(type, "A") && inet_pton(AF_INET, f1, r->a) == 1) {
			r->type = 1;
			n++;
		} else if (!strcmp(type, "SRV") && k >= 8 && (r->target_len = to_wire(f4, r->target)) > 0) {
			r->type = 33;
			r->port = (uint16_t)atoi(f3);
			n++;
		} else if (!strcmp(type, "SOA") && k >= 11) { /* the negative-answer authority RR */
			struct msg m = { .len = 0 };
			uint8_t w[MAX_NAME];
			memcpy(m.b, r->owner, (size_t)r->owner_len);
			m.len = r->owner_len;
			put_rr_head(&m, 6);
			int at = m.len;
			m.len += 2;
			to_wire(f1, w);
			memcpy(m.b + m.len, w, (size_t)to_wire(f1, w));
			m.len += to_wire(f1, w);
			m.len += to_wire(f2, m.b + m.len);
			const char *v[5] = { f3, f4, f5, f6, f7 };
			for (int i = 0; i < 5; i++) {
				uint32_t x = (uint32_t)strtoul(v[i], NULL, 10);
				put16(&m, x >> 16);
				put16(&m, x & 0xFFFF);
			}
			m.b[at] = (uint8_t)((m.len - at - 2) >> 8);
			m.b[at + 1] = (uint8_t)(m.len - at - 2);
			memcpy(soa_rr, m.b, (size_t)m.len);
			soa_len = m.len;
		}
	}
	fclose(f);
	for (table_mask = 1; table_mask < 4 * n; table_mask <<= 1)
		;
	table = calloc(table_mask, sizeof *table);
	table_mask--;
	qsort(rs, n, sizeof *rs, by_owner_type);
	for (size_t i = 0; i < n; i++) /* every owner and its ancestors exist (NODATA, not NXDOMAIN) */
		for (int off = 0; rs[i].owner[off]; off += rs[i].owner[off] + 1)
			slot(rs[i].owner + off, rs[i].owner_len - off, 0, 1);
	size_t groups = 0;
	for (size_t i = 0, j; i < n; i = j, groups++) {
		for (j = i + 1; j < n && !by_owner_type(&rs[i], &rs[j]); j++)
			;
		compile(&rs[i], (int)(j - i), rs, (int)n);
	}
	free(rs);
	fprintf(stderr, "responder: %zu records, %zu replies precompiled\n", n, groups);
}

/* Writes the reply to query q (ql bytes) into r; returns its length, 0 to drop. */
static int answer(const uint8_t *q, int ql, uint8_t *r)
{
	uint8_t name[MAX_NAME];
	int o = 12, nl = 0;
	if (ql < 17 || (q[2] & 0x80))
		return 0;
	while (q[o]) {
		int l = q[o];
		if (l > 63 || o + l + 1 >= ql || nl + l + 2 > MAX_NAME)
			return 0;
		name[nl++] = (uint8_t)l;
		for (int i = 1; i <= l; i++) {
			uint8_t c = q[o + i];
			name[nl++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
		}
		o += l + 1;
	}
	name[nl++] = 0;
	int qend = o + 5;
	if (qend > ql)
		return 0;
	uint16_t qtype = (uint16_t)(q[o + 1] << 8 | q[o + 2]);
	const struct entry *e = slot(name, nl, qtype, 0);
	if (e) {
		memcpy(r, e->reply, (size_t)e->reply_len);
		memcpy(r + 12, q + 12, (size_t)(qend - 12));
		r[0] = q[0];
		r[1] = q[1];
		r[2] |= q[2] & 0x01;
		return e->reply_len;
	}
	memcpy(r, q, (size_t)qend);
	r[2] = (uint8_t)(0x84 | (q[2] & 0x01));
	r[3] = slot(name, nl, 0, 0) ? 0 : 3;
	memset(r + 6, 0, 6);
	r[9] = 1;
	memcpy(r + qend, soa_rr, (size_t)soa_len);
	return qend + soa_len;
}

static int open_socket(int port, int reuse, int rcvbuf)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (reuse)
		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a)) {
		perror("bind");
		exit(1);
	}
	return s;
}

static void serve(int s, int batched, int batch)
{
	static uint8_t qb[MAX_BATCH][MAX_PKT], rb[MAX_BATCH][MAX_PKT];
	static struct sockaddr_in peer[MAX_BATCH];
	static struct mmsghdr qm[MAX_BATCH], rm[MAX_BATCH];
	static struct iovec qi[MAX_BATCH], ri[MAX_BATCH];
	if (!batched)
		for (;;) {
			socklen_t pl = sizeof peer[0];
			ssize_t n = recvfrom(s, qb[0], MAX_PKT, 0, (struct sockaddr *)&peer[0], &pl);
			int rl = n > 0 ? answer(qb[0], (int)n, rb[0]) : 0;
			if (rl)
				sendto(s, rb[0], (size_t)rl, 0, (struct sockaddr *)&peer[0], pl);
		}
	for (int i = 0; i < batch; i++) {
		qi[i] = (struct iovec){ .iov_base = qb[i], .iov_len = MAX_PKT };
		qm[i].msg_hdr.msg_iov = &qi[i];
		qm[i].msg_hdr.msg_iovlen = 1;
		qm[i].msg_hdr.msg_name = &peer[i];
		ri[i].iov_base = rb[i];
	}
	for (;;) {
		for (int i = 0; i < batch; i++)
			qm[i].msg_hdr.msg_namelen = sizeof peer[i];
		int n = recvmmsg(s, qm, (unsigned)batch, MSG_WAITFORONE, NULL), k = 0;
		for (int i = 0; i < n; i++) {
			int rl = answer(qb[i], (int)qm[i].msg_len, rb[i]);
			if (!rl)
				continue;
			ri[i].iov_len = (size_t)rl;
			rm[k++].msg_hdr = (struct msghdr){ .msg_name = &peer[i], .msg_namelen = qm[i].msg_hdr.msg_namelen,
							   .msg_iov = &ri[i], .msg_iovlen = 1 };
		}
		for (int sent = 0, m; sent < k; sent += m)
			if ((m = sendmmsg(s, rm + sent, (unsigned)(k - sent), 0)) <= 0)
				break;
	}
}

int main(int argc, char **argv)
{
	int port = 15360, batched = 1, batch = 64, workers = 1, rcvbuf = 4 << 20, c;
	const char *zone = NULL;
	while ((c = getopt(argc, argv, "z:p:m:b:n:r:")) != -1)
		switch (c) {
		case 'z': zone = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': batched = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'n': workers = atoi(optarg); break;
		case 'r': rcvbuf = atoi(optarg); break;
		default: zone = NULL; optind = argc; break;
		}
	if (!zone || batch < 1 || batch > MAX_BATCH || workers < 1) {
		fprintf(stderr, "usage: responder -z ZONEFILE [-p PORT] [-m 0|1] [-b BATCH<=%d] [-n WORKERS] [-r RCVBUF]\n", MAX_BATCH);
		return 2;
	}
	load_zone(zone);
	if (workers == 1)
		serve(open_socket(port, 0, rcvbuf), batched, batch);
	for (int i = 0; i < workers; i++) {
		int s = open_socket(port, 1, rcvbuf);
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM); /* die with the parent */
			serve(s, batched, batch);
		}
		close(s);
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
