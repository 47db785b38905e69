%% The BEAM's side of etf_throughput: for each line `Name Expression` of a file, the term's
%% term_to_binary (as hex, for the C++ side to decode and time the same bytes) and the MB/s of
%% term_to_binary and binary_to_term on it.
-module(etf_beam).
-export([run/1]).

run(File) ->
    {ok, B} = file:read_file(File),
    Lines = [L || L <- binary:split(B, <<"\n">>, [global]), L =/= <<>>],
    lists:foreach(fun measure/1, Lines).

measure(Line) ->
    [Name, Text] = binary:split(Line, <<" ">>),
    T = eval(Text),
    Bin = term_to_binary(T),
    Enc = rate(fun() -> term_to_binary(T) end, byte_size(Bin)),
    Dec = rate(fun() -> binary_to_term(Bin) end, byte_size(Bin)),
    io:format("term ~s ~s~n", [Name, binary:encode_hex(Bin)]),
    io:format("beam ~s ~.1f ~.1f~n", [Name, Enc, Dec]).

eval(Text) ->
    {ok, Tokens, _} = erl_scan:string(binary_to_list(Text) ++ "."),
    {ok, Exprs} = erl_parse:parse_exprs(Tokens),
    {value, V, _} = erl_eval:exprs(Exprs, []),
    V.

%% MB/s: batches of calls, doubling, until 300 ms have been timed.
rate(F, Bytes) -> rate(F, Bytes, 1, 0, 0).

rate(F, Bytes, Batch, Calls, Ns) when Ns < 300000000 ->
    T0 = erlang:monotonic_time(nanosecond),
    repeat(F, Batch),
    T1 = erlang:monotonic_time(nanosecond),
    rate(F, Bytes, Batch * 2, Calls + Batch, Ns + (T1 - T0));
rate(_F, Bytes, _Batch, Calls, Ns) ->
    Bytes * Calls / (Ns / 1.0e9) / 1.0e6.

repeat(_F, 0) -> ok;
repeat(F, N) -> F(), repeat(F, N - 1).
