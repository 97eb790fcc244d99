/* Error codes of the core library: every call returns 0 or one of these. */
#ifndef PATCHDIGEST_ERROR_H
#define PATCHDIGEST_ERROR_H

enum pd_err {
	PD_OK = 0,
	PD_ENOMEM = -1,		/* out of memory */
	PD_EINVAL = -2,		/* bad argument or bad usage */
	PD_EIO = -3,		/* read/write/fsync failed (see errno) */
	PD_EPARSE = -4,		/* input cannot be parsed */
	PD_ENOTFOUND = -5,	/* no such record */
	PD_EEXIST = -6,		/* already there (e.g. duplicate Message-ID) */
	PD_ESTORE = -7,		/* LMDB error not covered below */
	PD_EFULL = -8,		/* store reached its configured size limit */
	PD_EBUSY = -9,		/* store locked by another process too long */
	PD_ECONFIG = -10,	/* bad configuration */
	PD_ESEND = -11,		/* sendmail failed */
	PD_ETOOBIG = -12,	/* input over a configured limit */
	PD_EVERSION = -13,	/* store has another schema version */
	PD_ECORRUPT = -14,	/* store file damaged */
	PD_EROFS = -15,		/* store is read-only */
	PD_ENOSTORE = -16,	/* store directory missing */
	PD_EEMPTY = -17,	/* nothing to do (e.g. empty range) */
};

/* A static, human-readable text for a code (never NULL). */
const char *pd_strerror(int err);

#endif
