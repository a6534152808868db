%% @doc `khepri_adv' inside transaction funs (SPEC 2.7): detailed results
%% `{ok, #{Path => Props}}' on the transaction's overlay.
-module(khepri_tx_adv).

%% get/1 and put/2 are also process-dictionary BIFs.
-compile({no_auto_import, [get/1, put/2]}).

-export([get/1, get/2, get_many/1, get_many/2, put/2, put/3, put_many/2, put_many/3,
         create/2, create/3, update/2, update/3,
         compare_and_swap/3, compare_and_swap/4, delete/1, delete/2,
         delete_many/1, delete_many/2, clear_payload/1, clear_payload/2,
         clear_many_payloads/1, clear_many_payloads/2]).

-define(SRC, (khepri_transaction:source())).

%% @doc `{ok, #{Path => Props}}' of one node.
get(Path) -> get(Path, #{}).
%% @doc `{ok, #{Path => Props}}' of one node.
get(Path, Opts) -> khepri_ops:adv_get(?SRC, Path, Opts).

%% @doc `{ok, #{Path => Props}}' of every match.
get_many(Pattern) -> get_many(Pattern, #{}).
%% @doc `{ok, #{Path => Props}}' of every match.
get_many(Pattern, Opts) -> khepri_ops:adv_get_many(?SRC, Pattern, Opts).

%% @doc Creates or updates one node.
put(Path, Data) -> put(Path, Data, #{}).
%% @doc Creates or updates one node.
put(Path, Data, Opts) -> khepri_ops:put(?SRC, Path, Data, Opts, adv).

%% @doc Creates or updates every match.
put_many(Pattern, Data) -> put_many(Pattern, Data, #{}).
%% @doc Creates or updates every match.
put_many(Pattern, Data, Opts) -> khepri_ops:put_many(?SRC, Pattern, Data, Opts, adv).

%% @doc Creates one node that must not exist.
create(Path, Data) -> create(Path, Data, #{}).
%% @doc Creates one node that must not exist.
create(Path, Data, Opts) -> khepri_ops:create(?SRC, Path, Data, Opts, adv).

%% @doc Updates one node that must exist.
update(Path, Data) -> update(Path, Data, #{}).
%% @doc Updates one node that must exist.
update(Path, Data, Opts) -> khepri_ops:update(?SRC, Path, Data, Opts, adv).

%% @doc Updates one node whose data matches `DataPattern'.
compare_and_swap(Path, DataPattern, Data) ->
    compare_and_swap(Path, DataPattern, Data, #{}).
%% @doc Updates one node whose data matches `DataPattern'.
compare_and_swap(Path, DataPattern, Data, Opts) ->
    khepri_ops:compare_and_swap(?SRC, Path, DataPattern, Data, Opts, adv).

%% @doc Deletes one node and its subtree.
delete(Path) -> delete(Path, #{}).
%% @doc Deletes one node and its subtree.
delete(Path, Opts) -> khepri_ops:delete(?SRC, Path, Opts, adv).

%% @doc Deletes every match and its subtree.
delete_many(Pattern) -> delete_many(Pattern, #{}).
%% @doc Deletes every match and its subtree.
delete_many(Pattern, Opts) -> khepri_ops:delete_many(?SRC, Pattern, Opts, adv).

%% @doc Removes the payload of one node.
clear_payload(Path) -> clear_payload(Path, #{}).
%% @doc Removes the payload of one node.
clear_payload(Path, Opts) -> khepri_ops:clear_payload(?SRC, Path, Opts, adv).

%% @doc Removes the payload of every match.
clear_many_payloads(Pattern) -> clear_many_payloads(Pattern, #{}).
%% @doc Removes the payload of every match.
clear_many_payloads(Pattern, Opts) ->
    khepri_ops:clear_many_payloads(?SRC, Pattern, Opts, adv).
