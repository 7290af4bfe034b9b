/*
 * blast.c - batched UDP DNS load generator (sendmmsg/recvmmsg) for the QPS ceiling.
 *
 * dnsperf spends more CPU per query than a fast server does, so on a small
 * machine it saturates first. blast keeps WINDOW queries outstanding over
 * SOCKETS connected sockets, sends and receives in batches of BATCH datagrams
 * per system call, and busy-polls. It sends only to 127.0.0.1.
 *
 *   blast -p PORT -d QUERYFILE [-l SECONDS] [-k SOCKETS] [-w WINDOW] [-b BATCH] [-Q QPS]
 *
 * QUERYFILE holds "name TYPE" lines (dnsperf's format; A, AAAA, SRV, NS, SOA, PTR, TXT, ANY),
 * optionally followed by the expected outcome, NOERROR (an answer) or NXDOMAIN; replies
 * that differ are counted as "Unexpected answers".
 * A query unanswered after 1 s counts as lost. -Q caps the sending rate. SIGINT or
 * SIGTERM ends the run early (with the summary). The summary uses dnsperf's wording,
 * so one parser reads both, and adds latency percentiles (1 us buckets) and the
 * longest pause of blast's own loop: a reply that arrives during such a pause
 * is timed late by up to that much, so it bounds what the generator adds to the
 * maximum latency.
 * Build: cc -O2 -o blast blast.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 64
#define MAX_BATCH 128
#define MAX_QUERY 272
#define MAX_REPLY 4096
#define TIMEOUT_NS 1000000000ull

struct query {
	uint8_t wire[MAX_QUERY];
	uint16_t len;
	int8_t expect; /* -1: anything; 0: NOERROR with answers; 3: NXDOMAIN */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int qtype_of(const char *t)
{
	static const struct { const char *name; int code; } types[] = {
		{ "A", 1 }, { "NS", 2 }, { "SOA", 6 }, { "PTR", 12 }, { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 }, { "ANY", 255 },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcasecmp(t, types[i].name))
			return types[i].code;
	return -1;
}

/* Encodes "name" (case kept) and type into q; returns 0, or -1 for a bad line. */
static int encode(const char *name, int type, struct query *q)
{
	uint8_t *p = q->wire;
	size_t o = 12, n = strlen(name);
	memset(p, 0, 12);
	p[2] = 0x01; /* RD, as dnsperf sends */
	p[5] = 1;    /* QDCOUNT */
	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && name[j] != '.')
			j++;
		if (j == i || j - i > 63 || o + (j - i) + 1 > 12 + 255)
			return -1;
		p[o++] = (uint8_t)(j - i);
		memcpy(p + o, name + i, j - i);
		o += j - i;
		i = j + 1;
	}
	p[o++] = 0;
	p[o++] = (uint8_t)(type >> 8);
	p[o++] = (uint8_t)type;
	p[o++] = 0;
	p[o++] = 1;
	q->len = (uint16_t)o;
	return 0;
}

/* receive side: totals over the run */
static uint64_t done, lost, lat_sum, lat_min = UINT64_MAX, lat_max, rcodes[16], bytes, truncated, unexpected;
/* latency histogram: one bucket per microsecond up to the timeout (1 s) */
#define HIST_US 1000000
static uint32_t hist[HIST_US + 1];
static int8_t (*expect_of)[65536]; /* per socket and DNS ID: the in-flight query's expectation */
static long outstanding;
static uint8_t rbuf[MAX_BATCH][MAX_REPLY];
static struct mmsghdr rmsg[MAX_BATCH];
static struct iovec riov[MAX_BATCH];

/* Takes every reply waiting on sock; sent_at maps DNS ID to send time (0 = none). */
static void collect(int sock, uint64_t *sent_at, const int8_t *expect, int batch, uint64_t t)
{
	int m = recvmmsg(sock, rmsg, (unsigned)batch, MSG_DONTWAIT, NULL);
	for (int i = 0; i < m; i++) {
		const uint8_t *r = rbuf[i];
		if (rmsg[i].msg_len < 12 || !(r[2] & 0x80))
			continue;
		uint16_t id = (uint16_t)(r[0] << 8 | r[1]);
		uint64_t ts = sent_at[id];
		if (!ts)
			continue; /* late or duplicate */
		sent_at[id] = 0;
		outstanding--;
		done++;
		bytes += rmsg[i].msg_len;
		rcodes[r[3] & 15]++;
		truncated += (r[2] & 0x02) != 0;
		if (expect[id] >= 0) {
			int ancount = r[6] << 8 | r[7];
			unexpected += expect[id] == 0 ? (r[3] & 15) != 0 || ancount == 0 : (r[3] & 15) != expect[id];
		}
		uint64_t l = t - ts;
		lat_sum += l;
		lat_min = l < lat_min ? l : lat_min;
		lat_max = l > lat_max ? l : lat_max;
		hist[l / 1000 < HIST_US ? l / 1000 : HIST_US]++;
	}
}

/* The latency under which a share P of the answered queries came, in seconds. */
static double percentile(double p)
{
	uint64_t want = (uint64_t)(p * (double)done), seen = 0;
	for (int us = 0; us <= HIST_US; us++) {
		seen += hist[us];
		if (seen > want || seen == done)
			return (us + 1) / 1e6;
	}
	return lat_max / 1e9;
}

static const char *rcode_name(int r)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
	return r < 6 ? names[r] : "OTHER";
}

int main(int argc, char **argv)
{
	int port = 0, nsocks = 8, window = 256, batch = 32, c;
	double secs = 10, max_qps = 0;
	const char *file = NULL;
	while ((c = getopt(argc, argv, "p:d:l:k:w:b:Q:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'd': file = optarg; break;
		case 'l': secs = atof(optarg); break;
		case 'k': nsocks = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'Q': max_qps = atof(optarg); break;
		default: goto usage;
		}
	}
	if (port <= 0 || port > 65535 || !file || nsocks < 1 || nsocks > MAX_SOCKS || batch < 1 ||
	    batch > MAX_BATCH || window < 1 || secs <= 0) {
	usage:
		fprintf(stderr, "usage: blast -p PORT -d QUERYFILE [-l SECONDS] [-k SOCKETS<=%d] "
				"[-w WINDOW] [-b BATCH<=%d] [-Q QPS]\n", MAX_SOCKS, MAX_BATCH);
		return 2;
	}

	FILE *f = fopen(file, "r");
	if (!f) {
		perror(file);
		return 1;
	}
	size_t nq = 0, cap = 1024;
	struct query *qs = malloc(cap * sizeof *qs);
	char line[600], name[300], type[32], expect[32];
	while (qs && fgets(line, sizeof line, f)) {
		int t, k = sscanf(line, "%299s %31s %31s", name, type, expect);
		if (k < 2 || (t = qtype_of(type)) < 0)
			continue;
		if (nq == cap)
			qs = realloc(qs, (cap *= 2) * sizeof *qs);
		if (qs && encode(name, t, &qs[nq]) == 0) {
			qs[nq].expect = k < 3 ? -1 : !strcasecmp(expect, "NXDOMAIN") ? 3 : 0;
			nq++;
		}
	}
	fclose(f);
	if (!qs || nq == 0) {
		fprintf(stderr, "%s: no usable queries\n", file);
		return 1;
	}

	int socks[MAX_SOCKS];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < nsocks; i++) {
		int size = 4 << 20;
		socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (socks[i] < 0 || connect(socks[i], (struct sockaddr *)&dst, sizeof dst)) {
			perror("socket");
			return 1;
		}
		setsockopt(socks[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	}

	/* sent[s][id]: send time of the query with that DNS ID on socket s, 0 = free */
	uint64_t (*sent_at)[65536] = calloc((size_t)nsocks, sizeof *sent_at);
	expect_of = calloc((size_t)nsocks, sizeof *expect_of);
	uint16_t next_id[MAX_SOCKS] = { 0 }, oldest[MAX_SOCKS] = { 0 };
	static uint8_t sbuf[MAX_BATCH][MAX_QUERY];
	static struct mmsghdr smsg[MAX_BATCH];
	static struct iovec siov[MAX_BATCH];
	if (!sent_at || !expect_of)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (int i = 0; i < MAX_BATCH; i++) {
		siov[i].iov_base = sbuf[i];
		smsg[i].msg_hdr.msg_iov = &siov[i];
		smsg[i].msg_hdr.msg_iovlen = 1;
		riov[i].iov_base = rbuf[i];
		riov[i].iov_len = MAX_REPLY;
		rmsg[i].msg_hdr.msg_iov = &riov[i];
		rmsg[i].msg_hdr.msg_iovlen = 1;
	}

	uint64_t sent = 0;
	size_t qi = 0;
	int s = 0;
	uint64_t t0 = now_ns(), t = t0, end = t0 + (uint64_t)(secs * 1e9), stall = 0;
	while (t < end && !stop) {
		long room = window - outstanding;
		if (max_qps > 0) { /* stay at or under the requested rate */
			long allowed = (long)((double)(t - t0) * max_qps / 1e9) - (long)sent;
			if (allowed < room)
				room = allowed;
		}
		if (room > 0) {
			int n = room < batch ? (int)room : batch;
			for (int i = 0; i < n; i++) {
				const struct query *q = &qs[qi++ % nq];
				uint16_t id = next_id[s]++;
				if (sent_at[s][id]) { /* wrapped onto a query still unanswered */
					lost++;
					outstanding--;
				}
				sent_at[s][id] = t;
				expect_of[s][id] = q->expect;
				memcpy(sbuf[i], q->wire, q->len);
				sbuf[i][0] = (uint8_t)(id >> 8);
				sbuf[i][1] = (uint8_t)id;
				siov[i].iov_len = q->len;
			}
			int m = sendmmsg(socks[s], smsg, (unsigned)n, MSG_DONTWAIT);
			if (m < 0)
				m = 0;
			for (int i = m; i < n; i++) /* not sent: free the IDs again */
				sent_at[s][(uint16_t)(sbuf[i][0] << 8 | sbuf[i][1])] = 0;
			sent += (uint64_t)m;
			outstanding += m;
			s = (s + 1) % nsocks;
		}
		uint64_t t1 = now_ns();
		stall = t1 - t > stall ? t1 - t : stall; /* our own longest pause: it adds to latency */
		t = t1;
		for (int j = 0; j < nsocks; j++)
			collect(socks[j], sent_at[j], expect_of[j], batch, t);
		/* give up on queries older than the timeout: IDs go out in order on
		 * each socket, so only the oldest ones need looking at */
		for (int j = 0; j < nsocks; j++)
			for (; oldest[j] != next_id[j]; oldest[j]++) {
				uint64_t ts = sent_at[j][oldest[j]];
				if (ts && t - ts <= TIMEOUT_NS)
					break;
				if (ts) {
					sent_at[j][oldest[j]] = 0;
					outstanding--;
					lost++;
				}
			}
	}
	/* collect stragglers for up to 100 ms, then count the rest as lost */
	for (uint64_t stop = now_ns() + 100000000ull; outstanding > 0 && (t = now_ns()) < stop;)
		for (int j = 0; j < nsocks; j++)
			collect(socks[j], sent_at[j], expect_of[j], batch, t);
	lost += (uint64_t)(outstanding > 0 ? outstanding : 0);
	double run = (double)((t < end ? t : end) - t0) / 1e9;
	printf("Queries sent:         %lu\n", sent);
	printf("Queries completed:    %lu (%.2f%%)\n", done, sent ? 100.0 * done / sent : 0.0);
	printf("Queries lost:         %lu (%.2f%%)\n", lost, sent ? 100.0 * lost / sent : 0.0);
	printf("Response codes:       ");
	for (int i = 0; i < 16; i++)
		if (rcodes[i])
			printf("%s %lu (%.2f%%) ", rcode_name(i), rcodes[i], 100.0 * rcodes[i] / (done ? done : 1));
	printf("\nAverage packet size:  response %.0f, truncated %lu\n", done ? (double)bytes / done : 0.0, truncated);
	printf("Unexpected answers:   %lu\n", unexpected);
	printf("Run time (s):         %.6f\n", run);
	printf("Queries per second:   %.6f\n", done / run);
	printf("Average Latency (s):  %.6f (min %.6f, max %.6f)\n", done ? lat_sum / 1e9 / done : 0.0,
	       lat_min == UINT64_MAX ? 0.0 : lat_min / 1e9, lat_max / 1e9);
	printf("Latency percentiles (s): p50 %.6f, p99 %.6f, p99.9 %.6f, p99.99 %.6f\n",
	       percentile(0.5), percentile(0.99), percentile(0.999), percentile(0.9999));
	printf("Longest generator pause (s): %.6f\n", stall / 1e9);
	return 0;
}
