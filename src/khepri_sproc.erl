%% @doc Running a stored procedure in the caller (SPEC 2.2, 5b): the fun
%% stored at a path is read from the local member and applied to the
%% arguments in the calling process.
-module(khepri_sproc).

-include("khepri.hrl").

-export([run/4]).

%% @doc The return value of the sproc at `Path' applied to `Args'. Throws
%% `?khepri_error(failed_to_get_sproc, _)' when the node cannot be read and
%% `?khepri_exception(denied_execution_of_non_sproc_node, _)' when it holds
%% no sproc; exceptions of the sproc propagate.
-spec run(atom(), term(), list(), map()) -> term().
run(StoreId, Path, Args, Options) when is_list(Args), is_map(Options) ->
    Props = Options#{props_to_return => [payload, payload_version,
                                         child_list_version, child_list_length]},
    case khepri_ops:adv_get(StoreId, Path, Props) of
        {ok, Found} ->
            %% Empty when a condition on the node did not hold.
            NodeProps = case maps:values(Found) of
                            [P] -> P;
                            [] -> #{}
                        end,
            case NodeProps of
                %% Run as is: a fun of another arity, or whose code is
                %% gone, fails with the VM's own exception (SPEC 5b).
                #{sproc := Fun} ->
                    erlang:apply(Fun, Args);
                _ ->
                    throw(?khepri_exception(denied_execution_of_non_sproc_node,
                                            #{path => Path, args => Args,
                                              node_props => NodeProps}))
            end;
        {error, Reason} ->
            throw(?khepri_error(failed_to_get_sproc,
                                #{path => Path, args => Args, error => Reason}))
    end.
