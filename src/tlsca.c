/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "envconf.h"
#include "fsutil.h"
#include "macro.h"
#include "tlsca.h"

#define SEED_MIN 32
#define CA_CN_PREFIX "patroni-debiand CA "
#define TLS_FILE_MAX (64 * 1024)

static void x509_freep(X509 **x) {
        X509_free(*x);
}
static void pkey_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}
#define _cleanup_x509_ _cleanup_(x509_freep)
#define _cleanup_pkey_ _cleanup_(pkey_freep)

/*
 * The CA's key: a P-256 private key whose scalar is HKDF-SHA256 of the seed (48 bytes, reduced into
 * [1, order-1]: no bias worth the name), its public point computed from it. ECDSA, not Ed25519: libpq's
 * channel binding hashes the server certificate with its signature's digest, which Ed25519 has none of.
 */
static EVP_PKEY *ca_key(const char *seed) {
        unsigned char raw[48], pub[65];
        EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
        EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) seed, strlen(seed)),
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) "patroni-debiand CA 1", 20),
                OSSL_PARAM_construct_end(),
        };
        EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
        BN_CTX *bctx = BN_CTX_new();
        BIGNUM *d = BN_secure_new(), *m = BN_new();
        EC_POINT *q = group ? EC_POINT_new(group) : NULL;
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *kp = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        EVP_PKEY *k = NULL;

        if (!kctx || !group || !bctx || !d || !m || !q || !bld ||
            EVP_KDF_derive(kctx, raw, sizeof(raw), params) != 1 || !BN_bin2bn(raw, sizeof(raw), d) ||
            !BN_sub(m, EC_GROUP_get0_order(group), BN_value_one()) || !BN_nnmod(d, d, m, bctx) || !BN_add_word(d, 1) ||
            EC_POINT_mul(group, q, d, NULL, NULL, bctx) != 1 ||
            EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), bctx) != sizeof(pub) ||
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) != 1 ||
            !(kp = OSSL_PARAM_BLD_to_param(bld)) || !(pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
            EVP_PKEY_fromdata_init(pctx) != 1 || EVP_PKEY_fromdata(pctx, &k, EVP_PKEY_KEYPAIR, kp) != 1)
                k = NULL;
        OPENSSL_cleanse(raw, sizeof(raw));
        EVP_PKEY_CTX_free(pctx);
        OSSL_PARAM_free(kp);
        OSSL_PARAM_BLD_free(bld);
        EC_POINT_free(q);
        BN_clear_free(d);
        BN_free(m);
        BN_CTX_free(bctx);
        EC_GROUP_free(group);
        EVP_KDF_CTX_free(kctx);
        EVP_KDF_free(kdf);
        return k;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
        int ok = e && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
        return ok ? 0 : -ENOMEM;
}

/* Every field fixed: on every host with the same seed the same subject and key (the ECDSA signature differs,
 * which no verifier looks at in a trust anchor). */
static X509 *ca_cert(EVP_PKEY *key) {
        unsigned char pub[65], digest[32];
        size_t publen = 0;
        unsigned digestlen = 0;
        char cn[64];
        X509 *x = X509_new();
        X509_NAME *name;

        if (!x || EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen) != 1 ||
            EVP_Digest(pub, publen, digest, &digestlen, EVP_sha256(), NULL) != 1)
                goto fail;
        snprintf(cn, sizeof(cn), CA_CN_PREFIX "%02x%02x%02x%02x%02x%02x", digest[0], digest[1], digest[2],
                 digest[3], digest[4], digest[5]);
        name = X509_get_subject_name(x);
        if (X509_set_version(x, X509_VERSION_3) != 1 || ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
            X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *) "patroni-debiand", -1, -1,
                                       0) != 1 ||
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) != 1 ||
            X509_set_issuer_name(x, name) != 1 ||
            ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "20250101000000Z") != 1 ||
            ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "99991231235959Z") != 1 || X509_set_pubkey(x, key) != 1 ||
            add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
            add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
            add_ext(x, x, NID_subject_key_identifier, "hash") < 0 || X509_sign(x, key, EVP_sha256()) <= 0)
                goto fail;
        return x;
fail:
        X509_free(x);
        return NULL;
}

static int pem_of(int (*write)(BIO *, void *), void *obj, char **ret, size_t *ret_size) {
        BIO *b = BIO_new(BIO_s_mem());
        char *data;
        long n;

        if (!b || write(b, obj) != 1) {
                BIO_free(b);
                return -ENOMEM;
        }
        n = BIO_get_mem_data(b, &data);
        *ret = n > 0 ? strndup(data, (size_t) n) : NULL;
        *ret_size = (size_t) n;
        BIO_free(b);
        return *ret ? 0 : -ENOMEM;
}

static int write_x509(BIO *b, void *x) {
        return PEM_write_bio_X509(b, x);
}
static int write_key(BIO *b, void *k) {
        return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

int tlsca_ca_pem(const char *seed, char **ret, size_t *ret_size) {
        if (!seed || strlen(seed) < SEED_MIN)
                return -EINVAL;
        _cleanup_pkey_ EVP_PKEY *key = ca_key(seed);
        if (!key)
                return -ENOMEM;
        _cleanup_x509_ X509 *x = ca_cert(key);
        if (!x)
                return -ENOMEM;
        return pem_of(write_x509, x, ret, ret_size);
}

/* "DNS:h,DNS:localhost,IP:127.0.0.1,IP:::1,IP:a,..." */
static char *alt_names(const TlsCaHost *h) {
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        if (!f)
                return NULL;
        fprintf(f, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", h->hostname);
        for (size_t i = 0; i < h->n_addresses; i++)
                if (!streq(h->addresses[i], "127.0.0.1") && !streq(h->addresses[i], "::1"))
                        fprintf(f, ",IP:%s", h->addresses[i]);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

static X509 *host_cert(const TlsCaHost *h, EVP_PKEY *key, X509 *ca, EVP_PKEY *cakey) {
        unsigned char serial[16];
        _cleanup_free_ char *san = alt_names(h);
        X509 *x = X509_new();
        BIGNUM *bn = NULL;

        if (!x || !san || RAND_bytes(serial, sizeof(serial)) != 1)
                goto fail;
        serial[0] &= 0x7f; /* positive */
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
        if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || X509_set_version(x, X509_VERSION_3) != 1 ||
            X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                       (const unsigned char *) h->hostname, -1, -1, 0) != 1 ||
            X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), (long) TLSCA_HOST_DAYS * 86400) || X509_set_pubkey(x, key) != 1 ||
            add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(x, ca, NID_key_usage, "critical,digitalSignature") < 0 ||
            add_ext(x, ca, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
            add_ext(x, ca, NID_subject_alt_name, san) < 0 || add_ext(x, ca, NID_authority_key_identifier, "keyid") < 0 ||
            X509_sign(x, cakey, EVP_sha256()) <= 0)
                goto fail;
        BN_free(bn);
        return x;
fail:
        BN_free(bn);
        X509_free(x);
        return NULL;
}

static int read_file(int rootfd, const char *path, char **ret, size_t *ret_size) {
        int r = fs_read_in_root(rootfd, path, true, ret, ret_size);
        if (r >= 0 && *ret_size > TLS_FILE_MAX) {
                free(*ret);
                *ret = NULL;
                return -EFBIG;
        }
        return r;
}

/* Is the host certificate in place, signed by CA, for KEY, covering every name, and not about to end? */
static bool host_cert_good(int rootfd, const TlsCaHost *h, EVP_PKEY *capub, EVP_PKEY **ret_key) {
        _cleanup_free_ char *ctext = NULL, *ktext = NULL;
        _cleanup_x509_ X509 *x = NULL;
        size_t csize, ksize;
        BIO *b;

        *ret_key = NULL;
        if (read_file(rootfd, TLS_KEY_FILE, &ktext, &ksize) < 0)
                return false;
        b = BIO_new_mem_buf(ktext, (int) ksize);
        *ret_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        OPENSSL_cleanse(ktext, ksize);
        if (!*ret_key || read_file(rootfd, TLS_CERT_FILE, &ctext, &csize) < 0)
                return false;
        b = BIO_new_mem_buf(ctext, (int) csize);
        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!x || X509_verify(x, capub) != 1 || X509_check_private_key(x, *ret_key) != 1)
                return false;
        time_t renew = time(NULL) + (time_t) TLSCA_RENEW_DAYS * 86400;
        if (X509_cmp_time(X509_get0_notAfter(x), &renew) <= 0)
                return false;
        if (X509_check_host(x, h->hostname, 0, 0, NULL) != 1)
                return false;
        for (size_t i = 0; i < h->n_addresses; i++)
                if (X509_check_ip_asc(x, h->addresses[i], 0) != 1)
                        return false;
        return true;
}

/* Is the CA file TEXT this seed's CA: its subject, its key, signed by itself? */
static bool same_ca(const char *text, size_t size, X509 *ca, EVP_PKEY *key) {
        BIO *b = BIO_new_mem_buf(text, (int) size);
        _cleanup_x509_ X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        return x && X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(ca)) == 0 &&
               EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1 && X509_verify(x, key) == 1;
}

/* Is the certificate file at PATH one of ours (the hosts' CA, or issued by one: ISSUER picks which name)?
 * 1 ours, 0 absent, -EPERM someone else's (or no certificate), with *RET_ERROR saying whose. */
static int ours_or_absent(int rootfd, const char *path, bool issuer, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        char cn[256] = "";
        int r = read_file(rootfd, path, &text, &size);

        if (r == -ENOENT)
                return 0;
        if (r >= 0) {
                BIO *b = BIO_new_mem_buf(text, (int) size);
                _cleanup_x509_ X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
                BIO_free(b);
                X509_NAME *n = x ? (issuer ? X509_get_issuer_name(x) : X509_get_subject_name(x)) : NULL;
                if (n && X509_NAME_get_text_by_NID(n, NID_commonName, cn, sizeof(cn)) > 0 && startswith(cn, CA_CN_PREFIX))
                        return 1;
        }
        char what[300];
        if (r < 0)
                snprintf(what, sizeof(what), "%s", fs_describe_error(r));
        else if (cn[0])
                snprintf(what, sizeof(what), "%s %s", issuer ? "issued by" : "for", cn);
        else
                snprintf(what, sizeof(what), "no certificate");
        return error_set(ret_error, -EPERM,
                         "%s is not one of this package's certificates (%s): move it away to have it made, or name "
                         "your own files with the tls: setting of " PATRONI_DIR "/patroni-debiand.yml",
                         path, what);
}

static int write_tls_file(int dirfd, const char *name, const char *data, size_t size, mode_t mode, uid_t uid,
                          gid_t gid, bool chown, char **ret_error) {
        int r = fs_write_atomic(dirfd, name, data, size, mode, uid, gid,
                                FS_WRITE_REPLACE | (chown ? FS_WRITE_CHOWN : 0));
        if (r < 0)
                return error_set(ret_error, r, "cannot write %s/%s: %s", TLS_DIR, name, strerror(-r));
        return 0;
}

int tlsca_ensure(int rootfd, const TlsCaHost *h, char **ret_what, char **ret_error) {
        static const EnvDefault seed_default[] = { { TLSCA_SEED_KEY, NULL } };
        _cleanup_free_ char *added = NULL, *ca_pem = NULL, *old_ca = NULL;
        _cleanup_pkey_ EVP_PKEY *cakey = NULL, *key = NULL;
        _cleanup_x509_ X509 *ca = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        size_t ca_size, old_size = 0;
        _cleanup_(envconf_freep) char **env = NULL;
        bool wrote_ca = false;
        int r;

        *ret_what = *ret_error = NULL;
        const char *seed = h->seed;
        if (!seed) {
                r = envconf_add_missing(rootfd, seed_default, ELEMENTSOF(seed_default), &added, &env, ret_error);
                if (r < 0) {
                        _cleanup_free_ char *error = TAKE_PTR(*ret_error);
                        return error_set(ret_error, r, "%s: %s", PATRONI_DIR "/env.conf",
                                         error ?: fs_describe_error(r));
                }
                seed = envconf_get(env, TLSCA_SEED_KEY);
        }
        if (!seed || strlen(seed) < SEED_MIN)
                return error_set(ret_error, -EINVAL,
                                 "%s: %s is shorter than %d characters; remove it to have a new one made",
                                 PATRONI_DIR "/env.conf", TLSCA_SEED_KEY, SEED_MIN);
        cakey = ca_key(seed);
        if (!cakey || !(ca = ca_cert(cakey)) || pem_of(write_x509, ca, &ca_pem, &ca_size) < 0)
                return -ENOMEM;

        dirfd = fs_mkdir_in_root(rootfd, TLS_DIR, 0755);
        if (dirfd < 0)
                return error_set(ret_error, dirfd, "cannot make %s: %s", TLS_DIR, strerror(-dirfd));
        /* Patroni and PostgreSQL (postgres) read the files: the directory must let them through, whatever
         * umask made it (the daemon's is 0077). */
        struct stat st;
        if (fstat(dirfd, &st) < 0 || ((st.st_mode & 0111) != 0111 && fchmod(dirfd, 0755) < 0)) {
                r = negative_errno();
                return error_set(ret_error, r, "cannot open %s to postgres: %s", TLS_DIR, strerror(-r));
        }
        if (read_file(rootfd, TLS_CA_FILE, &old_ca, &old_size) < 0 || !same_ca(old_ca, old_size, ca, cakey)) {
                /* Another seed's CA is replaced (env.conf came from another host); an admin's file never is. */
                r = ours_or_absent(rootfd, TLS_CA_FILE, false, ret_error);
                if (r < 0)
                        return r;
                r = write_tls_file(dirfd, "ca.pem", ca_pem, ca_size, 0644, h->uid, 0, h->chown, ret_error);
                if (r < 0)
                        return r;
                wrote_ca = true;
        }

        if (host_cert_good(rootfd, h, cakey, &key)) {
                if (!wrote_ca)
                        return 0;
                return asprintf(ret_what, "%s", TLS_CA_FILE) < 0 ? -ENOMEM : 1;
        }

        r = ours_or_absent(rootfd, TLS_CERT_FILE, true, ret_error);
        if (r < 0)
                return r;
        /* A new key each time: one that was in a certificate that is no longer good is not reused. */
        _cleanup_free_ char *key_pem = NULL, *cert_pem = NULL;
        _cleanup_x509_ X509 *x = NULL;
        size_t key_size, cert_size;
        EVP_PKEY_free(key);
        key = EVP_EC_gen("P-256");
        if (!key || !(x = host_cert(h, key, ca, cakey)) || pem_of(write_key, key, &key_pem, &key_size) < 0 ||
            pem_of(write_x509, x, &cert_pem, &cert_size) < 0)
                return -ENOMEM;
        /* The key first: a crash between the two leaves a pair that does not match, made again next time. */
        r = write_tls_file(dirfd, "host.key", key_pem, key_size, 0640, h->uid, h->key_gid, h->chown, ret_error);
        OPENSSL_cleanse(key_pem, key_size);
        if (r < 0)
                return r;
        r = write_tls_file(dirfd, "host.pem", cert_pem, cert_size, 0644, h->uid, 0, h->chown, ret_error);
        if (r < 0)
                return r;
        return asprintf(ret_what, "%s%s%s", wrote_ca ? TLS_CA_FILE ", " : "", TLS_CERT_FILE ", ", TLS_KEY_FILE) < 0
                       ? -ENOMEM
                       : 1;
}
