%% Assertions shared by the EUnit suites.

-define(EX(Name, Props), {khepri_ex, Name, Props}).

%% Asserts that `Expr' raises exactly `error:Reason' (not a pattern match).
-define(assertRaise(Reason, Expr),
        ?assertEqual({error, Reason},
                     try (Expr) of
                         Ret__ -> {returned, Ret__}
                     catch
                         error:Error__ -> {error, Error__}
                     end)).
