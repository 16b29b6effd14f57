module github.com/mbo-exam/requestid

go 1.22
