/* pd_strerror: the texts of enum pd_err. */
#include "patchdigest/error.h"

const char *
pd_strerror(int err)
{
	switch (err) {
	case PD_OK:		return "success";
	case PD_ENOMEM:		return "out of memory";
	case PD_EINVAL:		return "invalid argument";
	case PD_EIO:		return "input/output error";
	case PD_EPARSE:		return "cannot parse message";
	case PD_ENOTFOUND:	return "not found";
	case PD_EEXIST:		return "already exists";
	case PD_ESTORE:		return "store error";
	case PD_EFULL:		return "store is full (MapSizeMax reached or disk full)";
	case PD_EBUSY:		return "store is busy";
	case PD_ECONFIG:	return "bad configuration";
	case PD_ESEND:		return "sending failed";
	case PD_ETOOBIG:	return "too big";
	case PD_EVERSION:	return
	    "store has an unknown schema version (move it away and re-import the mail)";
	case PD_ECORRUPT:	return "store is corrupt (move it away and re-import the mail)";
	case PD_EROFS:		return
	    "store is read-only (check the permissions and mount of its directory)";
	case PD_ENOSTORE:	return
	    "store does not exist (check Database; patchdigest import creates it)";
	case PD_EEMPTY:		return "nothing to do";
	}
	return "unknown error";
}
