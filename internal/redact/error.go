package redact

// Error returns an error whose text is msg, the text of err with its
// secrets masked, and whose Unwrap returns err, so that errors.Is and
// errors.As still reach the cause. It returns nil if err is nil.
func Error(msg string, err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: msg, err: err}
}

// SecretsError returns err with every secret in its text replaced by
// [Mask] (see [Secrets]), unwrapping to err; err itself if its text holds
// none of them.
func SecretsError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	if msg := Secrets(err.Error(), secrets); msg != err.Error() {
		return Error(msg, err)
	}
	return err
}

// redactedError carries a cause whose text had secrets in it: Error is
// the redacted text, Unwrap reaches the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
