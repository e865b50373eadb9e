package mysqlswap

// RecoverWith is Recover calling hook after each step.
var RecoverWith = recoverTarget
