package clash

// errors is declared by a test file only: generated code must avoid it too.
var errors = 3
