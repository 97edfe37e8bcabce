/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fsutil.h"
#include "macro.h"
#include "tlscert.h"

/* A certificate file is small: a chain of a few. Anything larger is not one, and is not read whole. */
#define CERT_FILE_MAX (1024 * 1024)

static int load(int rootfd, const char *path, X509 **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        BIO *bio;
        int r;

        r = fs_read_in_root(rootfd, path, false, &text, &size);
        if (r < 0)
                return r;
        if (size > CERT_FILE_MAX) {
                if (asprintf(ret_error, "%s is %zu bytes, not a certificate", path, size) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        bio = BIO_new_mem_buf(text, (int) size);
        if (!bio)
                return -ENOMEM;
        *ret = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!*ret) {
                if (asprintf(ret_error, "%s holds no PEM certificate", path) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        return 0;
}

int tlscert_load(int rootfd, const char *path, TlsCert *ret, char **ret_error) {
        X509 *x = NULL;
        struct tm tm;
        int r;

        *ret_error = NULL;
        r = load(rootfd, path, &x, ret_error);
        if (r < 0)
                return r;
        *ret = (TlsCert){};
        if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
                X509_free(x);
                if (asprintf(ret_error, "%s: its end date cannot be read", path) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        ret->not_after = timegm(&tm);
        X509_NAME_oneline(X509_get_subject_name(x), ret->subject, sizeof(ret->subject));
        X509_free(x);
        return 0;
}

int tlscert_names_host(int rootfd, const char *path, const char *host) {
        _cleanup_free_ char *error = NULL;
        unsigned char addr[16];
        X509 *x = NULL;
        int r;

        r = load(rootfd, path, &x, &error);
        if (r < 0)
                return r;
        if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
                r = X509_check_ip_asc(x, host, 0) == 1;
        else
                r = X509_check_host(x, host, strlen(host), 0, NULL) == 1;
        X509_free(x);
        return r;
}

int tlscert_host_of(const char *hostport, char *buf, size_t size) {
        const char *colon = hostport ? strrchr(hostport, ':') : NULL;
        const char *start = hostport;
        size_t n;

        if (!colon)
                return -EINVAL;
        n = (size_t) (colon - hostport);
        if (n >= 2 && hostport[0] == '[' && hostport[n - 1] == ']') {
                start++;
                n -= 2;
        }
        if (n == 0 || n >= size)
                return -EINVAL;
        memcpy(buf, start, n);
        buf[n] = 0;
        return 0;
}
