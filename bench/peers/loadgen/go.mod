module ssehub.local/bench/loadgen

go 1.19
